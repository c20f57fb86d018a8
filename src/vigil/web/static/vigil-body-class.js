/* Loaded at the top of <body>, before anything is drawn: tells GOV.UK Frontend's CSS that
   JavaScript runs (kept out of the page itself, as the Content-Security-Policy allows no inline
   script). */
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
