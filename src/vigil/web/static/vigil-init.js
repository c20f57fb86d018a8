/* Starts GOV.UK Frontend's components (a module file: the CSP allows no inline script). */
import { initAll } from '/static/vendor/govuk/govuk-frontend.min.js'
initAll()
