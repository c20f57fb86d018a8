/* The live alert queue: listens to the alerts stream (server-sent events) and, on any change,
   fetches the queue's rows again from the server, so the order, the counts and the filters are
   always the server's. Keyboard focus stays on the same alert link across a refresh, and screen
   readers hear what arrived. Without JavaScript the page still works: reload to refresh.

   New critical alerts can also be announced the ways the user chose on their account page (each
   off until chosen, read from the page's data-notify-* attributes): a sound, a desktop
   notification, and a count in the tab title of the critical alerts nobody has acknowledged. A
   browser that refuses (no permission, no sound before the page is clicked) is told about on
   the page, never an error. */
(function () {
  'use strict';
  var live = document.getElementById('queue-live');
  if (!live || !window.EventSource) { return; }
  var status = document.getElementById('queue-status');
  var connection = document.getElementById('queue-connection');
  var notifyStatus = document.getElementById('queue-notify-status');
  var permissionOffer = document.getElementById('queue-notify-offer');
  var soundUrl = live.getAttribute('data-notify-sound');
  var desktop = live.hasAttribute('data-notify-desktop');
  var titleCount = live.hasAttribute('data-notify-title');
  var baseTitle = document.title;
  var pending = null;

  function ids() {
    var out = {};
    live.querySelectorAll('tr[data-alert-id]').forEach(function (row) {
      out[row.getAttribute('data-alert-id')] = true;
    });
    return out;
  }

  function tell(text) {
    if (notifyStatus) { notifyStatus.textContent = text; }
  }

  function showTitleCount() {
    if (!titleCount) { return; }
    var waiting = live.querySelectorAll('tr[data-severity="critical"][data-status="new"]').length;
    document.title = waiting ? '(' + waiting + ') ' + baseTitle : baseTitle;
  }

  function playSound() {
    var played = new Audio(soundUrl).play();
    if (played && played.catch) {
      played.catch(function () {
        tell('The browser held back the alert sound: click anywhere on this page once to allow it.');
      });
    }
  }

  function notifyDesktop(rows) {
    if (!('Notification' in window) || Notification.permission !== 'granted') { return; }
    rows.forEach(function (row) {
      var link = row.querySelector('a');
      var shown = new Notification('Critical alert: ' + link.textContent.split(':')[0], {
        body: row.cells[2] ? row.cells[2].innerText.replace(/\s+/g, ' ').trim() : '',
        tag: 'vigil-alert-' + row.getAttribute('data-alert-id')
      });
      shown.onclick = function () { window.focus(); window.location.href = link.getAttribute('href'); };
    });
  }

  function announceCritical(rows) {
    var critical = rows.filter(function (row) {
      return row.getAttribute('data-severity') === 'critical' &&
             row.getAttribute('data-status') === 'new';
    });
    if (!critical.length) { return; }
    if (soundUrl) { playSound(); }
    if (desktop) { notifyDesktop(critical); }
  }

  function offerPermission() {
    if (!desktop || !permissionOffer) { return; }
    if (!('Notification' in window)) {
      tell('This browser cannot show desktop notifications.');
    } else if (Notification.permission === 'denied') {
      tell('Desktop notifications are blocked for this site in your browser settings.');
    } else if (Notification.permission === 'default') {
      permissionOffer.hidden = false;
      permissionOffer.querySelector('button').addEventListener('click', function () {
        Promise.resolve(Notification.requestPermission()).then(function (answer) {
          permissionOffer.hidden = answer !== 'default';
          if (answer === 'denied') { tell('Desktop notifications were not allowed.'); }
        }, function () { tell('Desktop notifications could not be turned on.'); });
      });
    }
  }

  function refresh() {
    pending = null;
    var before = ids();
    var focused = document.activeElement && live.contains(document.activeElement)
      ? document.activeElement.getAttribute('href') : null;
    fetch(live.getAttribute('data-queue-url'), { credentials: 'same-origin',
                                                  headers: { Accept: 'text/html' } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        live.innerHTML = html;
        var arrived = [];
        var arrivedRows = [];
        live.querySelectorAll('tr[data-alert-id]').forEach(function (row) {
          if (!before[row.getAttribute('data-alert-id')]) {
            row.classList.add('vigil-new');
            arrivedRows.push(row);
            arrived.push(row.getAttribute('data-severity') + ' alert: ' +
                         row.querySelector('a').textContent.split(':')[0]);
          }
        });
        if (arrived.length) { status.textContent = 'New ' + arrived.join('; '); }
        announceCritical(arrivedRows);
        showTitleCount();
        if (focused) {
          var again = live.querySelector('a[href="' + focused + '"]');
          if (again) { again.focus(); }
        }
      });
  }

  function connect() {
    var source = new EventSource('/api/alerts/stream');
    source.addEventListener('open', function () {
      connection.textContent = 'Live updates: on.';
      refresh(); // catch anything raised while the page was loading or reconnecting
    });
    source.addEventListener('alert', function () {
      if (!pending) { pending = setTimeout(refresh, 150); }
    });
    source.addEventListener('error', function () {
      connection.textContent = 'Live updates: reconnecting…';
    });
  }
  offerPermission();
  showTitleCount();
  connect();
})();
