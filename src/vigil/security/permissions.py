"""Who may do what: every use case's permission, declared once, and the route that serves it.

A ``Permission`` names a use case and the roles that may attempt it. Caseload scope (which
persons, which force area) is still decided by the use case itself; the permission only decides
whether the role may ask at all. ``ROUTE_PERMISSIONS`` maps every HTTP route of the app to one
permission, and the app checks it before it reads a body, so a refused role learns nothing from
validation errors. A route missing from the map refuses every machine token and fails the
permission matrix test (tests/security/test_permission_matrix.py), which pins the whole table.

Machine tokens get exactly their job: ``device_gateway`` submits fixes and reads nothing about
people, zones, officers, teams or prisons; ``prison_system`` runs call and mail checks and reads
the barred-number feed.
"""

from __future__ import annotations

from vigil.security.model import HUMAN_ROLES, Permission, Role


def _p(name: str, *roles: Role, anonymous: bool = False) -> Permission:
    return Permission(name, frozenset(roles), anonymous)


OP = Role.MONITORING_OPERATOR
PO = Role.PROBATION_OFFICER
PC = Role.POLICE
CH = Role.UPCS_CASE_HANDLER
AN = Role.ANALYST
AD = Role.ADMIN
AU = Role.AUDITOR
GW = Role.DEVICE_GATEWAY
PS = Role.PRISON_SYSTEM

HUMANS = tuple(HUMAN_ROLES)
REGISTRY = (OP, PO, PC, AD)

# --- public and every signed-in principal ---------------------------------------------------
PUBLIC = _p("public", *HUMANS, GW, PS, anonymous=True)
SIGN_IN = _p("sign_in", *HUMANS, anonymous=True)
WHO_AM_I = _p("who_am_i", *HUMANS, GW, PS)
STAFF_HOME = _p("staff_home", *HUMANS)
REFERENCE_DATA = _p("reference_data.read", *HUMANS)
# Officers' names and e-mails are staff data: the people who allocate work and route alerts.
OFFICERS_READ = _p("officers.read", OP, PO, PC, AD)
# A signed-in person managing their own account: signing out, the second factor.
OWN_ACCOUNT = _p("own_account", *HUMANS)
USER_SESSIONS_END = _p("user_sessions.end", AD)
AUDIT_VERIFY = _p("audit.verify", AU, AD)
REGISTRY_ADMIN = _p("registry.admin", AD)

# --- monitoring registry ----------------------------------------------------------------------
PERSONS_READ = _p("persons.read", *REGISTRY)
PERSONS_WRITE = _p("persons.write", AD, PO, OP)
PROTECTED_PERSONS_READ = _p("protected_persons.read", *REGISTRY)
PROTECTED_PERSONS_WRITE = _p("protected_persons.write", AD, PO, OP, PC)
# Seeing a protected person's name, address and phone rather than a mask: the officer managing
# the case, the police responding to an alert, and the monitoring centre following the call
# protocol. Everyone else (administrators too) sees that a protected person exists, never who or
# where they are.
PROTECTED_DETAILS = _p("protected_persons.details", OP, PO, PC)
ORDERS_READ = _p("orders.read", *REGISTRY)
ORDERS_WRITE = _p("orders.write", AD, PO)
ELIGIBILITY = _p("eligibility", AD, PO)
MONITORING_PLAN_READ = _p("monitoring_plan.read", OP, AD)
DEVICES_READ = _p("devices.read", *REGISTRY)
DEVICES_WRITE = _p("devices.write", AD, OP)
DEVICE_HOLDER_READ = _p("device_holder.read", OP, AD)
POSTCODE_LOOKUP = _p("postcode.lookup", AD, PO)

# --- tracking, alerts, devices' doors ----------------------------------------------------------
TRAIL_READ = _p("trail.read", *REGISTRY)
UNKNOWN_DEVICES_READ = _p("unknown_devices.read", AD, OP)
ALERTS_WORK = _p("alerts.work", *REGISTRY)
# Closing an alert with an outcome is the monitoring centre's and the officer's decision; police
# act on an alert and record what they did, but the outcome is not theirs to set.
ALERTS_RESOLVE = _p("alerts.resolve", OP, PO, AD)
SUPPRESSIONS_MANAGE = _p("suppressions.manage", OP, PO, AD)
NOTIFICATION_CHOICES = _p("notification_choices.set", OP, PO, AD)
# Refused devices' frames hold positions: the monitoring centre finds mis-registered tags.
QUARANTINE_READ = _p("quarantine.read", OP, AD)
# A dead letter holds a message's bytes (a position, an alert); replaying one re-runs it.
DEAD_LETTERS = _p("dead_letters", AD)
FIXES_SUBMIT = _p("fixes.submit", GW)
FIXES_IMPORT = _p("fixes.import", GW, AD)
GATEWAY_METRICS = _p("gateway_metrics.read", GW, AD)

# --- unwanted prisoner contact ---------------------------------------------------------------
CONTACT_REQUEST_SUBMIT = _p("contact_request.submit", *HUMANS, anonymous=True)
# The public and staff report contact; a machine token has no one behind it to report anything.
INTELLIGENCE_REPORT = _p("intelligence.report", *HUMANS, anonymous=True)
CONTACT_CHECKS = _p("contact.checks", PS)
BARRED_NUMBERS_FEED = _p("barred_numbers.feed", PS)
CONTACT_CASES = _p("contact.cases", CH)

# --- evidence and statistics -----------------------------------------------------------------
EVIDENCE_HOME = _p("evidence.home", PO, PC, AD, OP, AN)
CRIME_MATCHING = _p("crime_matching", PC, AN, AD)
# Police confirm or discard the matches of wearers in their own force area (the use case checks
# the scope), so a force can finish its own crime matching; analysts review nationwide.
MATCH_REVIEW = _p("crime_matching.review", PC, AN, AD)
# Matching against every wearer in the country, not only the caller's force area: a stated,
# audited reason is still required for each run.
CRIME_MATCHING_NATIONWIDE = _p("crime_matching.nationwide", AN, AD)
WEEKLY_OVERVIEW = _p("weekly_overview", PO, OP, AD)
EVIDENCE_PACKS = _p("evidence_packs", PO, OP, AD)
PERSON_EVIDENCE = _p("person_evidence", PO, OP, AD)
PROGRAMME_STATISTICS = _p("programme_statistics", AD, AN)
# A data-protection task: the export withholds what would reveal a protected person.
SUBJECT_ACCESS = _p("subject_access.export", AD)

# --- high-harm matrix ----------------------------------------------------------------------------
HARM_MATRIX = _p("harm_matrix", AN)

# --- one perpetrator across the services (vigil.links) ---------------------------------------
# Which prisoner and which matrix person a registry person is: those who manage him and those
# whose service the link reaches.
PERSON_LINKS_READ = _p("person_links.read", PO, OP, CH, AN, AD)
PERSON_LINKS_FIND = _p("person_links.find", PO, AD)
# Confirming or undoing a proposed link: the officer who manages the person, or the service the
# link reaches (a case handler for the prisoner register, an analyst for the matrix).
PERSON_LINKS_DECIDE = _p("person_links.decide", PO, CH, AN, AD)
PRISONER_LINKS_DECIDE = _p("person_links.decide.prisoner", PO, CH, AD)
MATRIX_LINKS_DECIDE = _p("person_links.decide.matrix", PO, AN, AD)
# A tagged man's contact bars, attempted contact and place in the matrix, on his page: the
# officer who manages him and the monitoring centre (victims' details stay behind
# PROTECTED_DETAILS).
CROSS_SERVICE_STORY = _p("cross_service.story", PO, OP)
# Whether a barred prisoner, or a matrix person, is tagged, under which order and who manages him.
TAGGING_FOR_CASE = _p("cross_service.tagging_for_case", CH)
TAGGING_FOR_MATRIX = _p("cross_service.tagging_for_matrix", AN)
# Prisoners with contact bars due for release, with a zone proposed around each barred address.
RELEASE_PLANNING = _p("release_planning", PO)


ROUTE_PERMISSIONS: dict[tuple[str, str], Permission] = {
    # health and metrics: counts and ages only, for load balancers and Prometheus
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/livez"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/login"): SIGN_IN,
    ("POST", "/login"): SIGN_IN,
    ("POST", "/login/code"): SIGN_IN,
    ("GET", "/login/sso"): SIGN_IN,
    ("GET", "/login/sso/callback"): SIGN_IN,
    ("GET", "/account"): OWN_ACCOUNT,
    ("POST", "/account/alert-notifications"): OWN_ACCOUNT,
    ("GET", "/account/two-factor"): OWN_ACCOUNT,
    ("POST", "/account/two-factor"): OWN_ACCOUNT,
    ("POST", "/logout"): OWN_ACCOUNT,
    ("POST", "/logout-everywhere"): OWN_ACCOUNT,
    ("POST", "/api/users/{user_id}/sessions/end"): USER_SESSIONS_END,
    ("GET", "/api/me"): WHO_AM_I,
    ("GET", "/api/audit/verify"): AUDIT_VERIFY,
    ("GET", "/"): STAFF_HOME,
    # people
    ("GET", "/caseload"): PERSONS_READ,
    ("GET", "/persons/{person_id}"): PERSONS_READ,
    ("GET", "/protected-persons/{protected_id}"): PROTECTED_PERSONS_READ,
    ("GET", "/api/persons"): PERSONS_READ,
    ("POST", "/api/persons"): PERSONS_WRITE,
    ("GET", "/api/persons/{person_id}"): PERSONS_READ,
    ("PUT", "/api/persons/{person_id}"): PERSONS_WRITE,
    ("GET", "/api/persons/{person_id}/protected-persons"): PROTECTED_PERSONS_READ,
    ("POST", "/api/persons/{person_id}/protected-persons"): PROTECTED_PERSONS_WRITE,
    ("GET", "/api/protected-persons/{protected_id}"): PROTECTED_PERSONS_READ,
    ("GET", "/api/regions"): REFERENCE_DATA,
    ("GET", "/api/force-areas"): REFERENCE_DATA,
    ("GET", "/api/teams"): REFERENCE_DATA,
    ("POST", "/api/teams"): REGISTRY_ADMIN,
    ("GET", "/api/officers"): OFFICERS_READ,
    ("POST", "/api/officers"): REGISTRY_ADMIN,
    ("GET", "/api/prisons"): REFERENCE_DATA,
    # orders
    ("GET", "/persons/{person_id}/orders/new"): ORDERS_WRITE,
    ("POST", "/persons/{person_id}/orders/new"): ORDERS_WRITE,
    ("GET", "/orders/{order_id}"): ORDERS_READ,
    ("GET", "/orders/{order_id}/vary"): ORDERS_WRITE,
    ("POST", "/orders/{order_id}/vary"): ORDERS_WRITE,
    ("GET", "/api/orders"): ORDERS_READ,
    ("POST", "/api/orders"): ORDERS_WRITE,
    ("GET", "/api/orders/{order_id}"): ORDERS_READ,
    ("GET", "/api/orders/{order_id}/versions"): ORDERS_READ,
    ("POST", "/api/orders/{order_id}/versions"): ORDERS_WRITE,
    ("GET", "/api/eligibility"): ORDERS_READ,
    ("POST", "/api/eligibility"): ELIGIBILITY,
    ("GET", "/api/monitoring-plan"): MONITORING_PLAN_READ,
    # devices
    ("GET", "/devices"): DEVICES_READ,
    ("GET", "/api/devices"): DEVICES_READ,
    ("POST", "/api/devices"): DEVICES_WRITE,
    ("GET", "/api/devices/{device_id}"): DEVICES_READ,
    ("GET", "/api/devices/{device_id}/allocations"): DEVICES_READ,
    ("POST", "/api/devices/{device_id}/allocations"): DEVICES_WRITE,
    ("POST", "/api/devices/{device_id}/removal"): DEVICES_WRITE,
    ("GET", "/api/device-holders/{external_id}"): DEVICE_HOLDER_READ,
    ("POST", "/api/devices/{device_id}/key"): DEVICES_WRITE,
    ("GET", "/devices/refused"): QUARANTINE_READ,
    ("GET", "/api/gateways/quarantine"): QUARANTINE_READ,
    # the bus's dead letters
    ("GET", "/admin/dead-letters"): DEAD_LETTERS,
    ("POST", "/admin/dead-letters/{letter_id}/replay"): DEAD_LETTERS,
    # contact: public, enforcement, cases
    ("POST", "/api/contact/requests"): CONTACT_REQUEST_SUBMIT,
    ("POST", "/api/contact/intelligence"): INTELLIGENCE_REPORT,
    ("POST", "/api/contact/call-check"): CONTACT_CHECKS,
    ("POST", "/api/contact/mail-check"): CONTACT_CHECKS,
    ("GET", "/api/contact/barred-numbers"): BARRED_NUMBERS_FEED,
    ("GET", "/api/contact/cases"): CONTACT_CASES,
    ("GET", "/api/contact/cases/{case_id}"): CONTACT_CASES,
    ("GET", "/api/contact/cases/{case_id}/candidates"): CONTACT_CASES,
    ("POST", "/api/contact/cases/{case_id}/match"): CONTACT_CASES,
    ("POST", "/api/contact/cases/{case_id}/bars"): CONTACT_CASES,
    ("POST", "/api/contact/bars/{bar_id}/lift"): CONTACT_CASES,
    ("POST", "/api/contact/cases/{case_id}/decline"): CONTACT_CASES,
    ("POST", "/api/contact/cases/{case_id}/information"): CONTACT_CASES,
    ("POST", "/api/contact/cases/{case_id}/notes"): CONTACT_CASES,
    ("GET", "/api/contact/alerts"): CONTACT_CASES,
    ("GET", "/api/contact/statistics"): CONTACT_CASES,
    **{
        (method, f"/contact{page}"): CONTACT_REQUEST_SUBMIT
        for page in (
            "",
            "/who",
            "/consent",
            "/your-details",
            "/safe-contact",
            "/contact-so-far",
            "/prisoner",
            "/person/{index}",
            "/person/{index}/address",
            "/person/{index}/remove",
            "/another-person",
            "/check",
        )
        for method in ("GET", "POST")
        if (method, page) != ("POST", "")
    },
    ("GET", "/contact/confirmation"): CONTACT_REQUEST_SUBMIT,
    ("GET", "/contact/report"): INTELLIGENCE_REPORT,
    ("POST", "/contact/report"): INTELLIGENCE_REPORT,
    ("GET", "/contact/cases"): CONTACT_CASES,
    ("GET", "/contact/cases/find"): CONTACT_CASES,
    ("GET", "/contact/cases/{case_id}"): CONTACT_CASES,
    ("POST", "/contact/cases/{case_id}/assign"): CONTACT_CASES,
    ("POST", "/contact/cases/{case_id}/notes"): CONTACT_CASES,
    ("POST", "/contact/cases/{case_id}/match"): CONTACT_CASES,
    ("POST", "/contact/cases/{case_id}/bar"): CONTACT_CASES,
    ("POST", "/contact/cases/{case_id}/decline"): CONTACT_CASES,
    ("POST", "/contact/cases/{case_id}/information"): CONTACT_CASES,
    ("POST", "/contact/cases/{case_id}/bars/{bar_id}/lift"): CONTACT_CASES,
    ("POST", "/contact/alerts/{alert_id}/acknowledge"): CONTACT_CASES,
    ("GET", "/contact/security"): CONTACT_CASES,
    ("GET", "/contact/statistics"): CONTACT_CASES,
    ("GET", "/contact/statistics.csv"): CONTACT_CASES,
    # tracking
    ("GET", "/api/trail/near"): TRAIL_READ,
    ("GET", "/api/trail/unknown-devices"): UNKNOWN_DEVICES_READ,
    ("GET", "/api/trail/persons/{person_id}"): TRAIL_READ,
    ("GET", "/api/trail/persons/{person_id}/account"): TRAIL_READ,
    # alerts
    ("GET", "/api/alerts"): ALERTS_WORK,
    ("GET", "/api/alerts/stream"): ALERTS_WORK,
    ("GET", "/api/alerts/{alert_id}"): ALERTS_WORK,
    ("POST", "/api/alerts/{alert_id}/acknowledge"): ALERTS_WORK,
    ("POST", "/api/alerts/{alert_id}/escalate"): ALERTS_WORK,
    ("POST", "/api/alerts/{alert_id}/resolve"): ALERTS_RESOLVE,
    ("POST", "/api/alerts/{alert_id}/notes"): ALERTS_WORK,
    ("POST", "/api/alerts/suppressions"): SUPPRESSIONS_MANAGE,
    ("DELETE", "/api/alerts/suppressions/{suppression_id}"): SUPPRESSIONS_MANAGE,
    (
        "PUT",
        "/api/alerts/protected-persons/{protected_person_id}/notifications",
    ): NOTIFICATION_CHOICES,
    # gateways' HTTP routes on the main app
    ("POST", "/api/gateways/fixes"): FIXES_SUBMIT,
    ("POST", "/api/gateways/import"): FIXES_IMPORT,
    ("GET", "/api/gateways/metrics"): GATEWAY_METRICS,
    # one perpetrator across the services (links)
    ("GET", "/api/persons/{person_id}/links"): PERSON_LINKS_READ,
    ("POST", "/api/persons/{person_id}/links/find"): PERSON_LINKS_FIND,
    ("POST", "/api/links/{link_id}/confirm"): PERSON_LINKS_DECIDE,
    ("POST", "/api/links/{link_id}/undo"): PERSON_LINKS_DECIDE,
    ("GET", "/api/persons/{person_id}/story"): CROSS_SERVICE_STORY,
    ("GET", "/api/release-plan"): RELEASE_PLANNING,
    ("GET", "/release-plan"): RELEASE_PLANNING,
    ("POST", "/persons/{person_id}/links/find"): PERSON_LINKS_FIND,
    ("POST", "/links/{link_id}/confirm"): PERSON_LINKS_DECIDE,
    ("POST", "/links/{link_id}/undo"): PERSON_LINKS_DECIDE,
    # high-harm matrix
    ("GET", "/harm"): HARM_MATRIX,
    ("POST", "/harm/runs"): HARM_MATRIX,
    ("GET", "/harm/person/{person_id}"): HARM_MATRIX,
    ("POST", "/harm/reviews"): HARM_MATRIX,
    ("POST", "/harm/reviews/{review_id}/close"): HARM_MATRIX,
    ("GET", "/harm/reviews"): HARM_MATRIX,
    ("POST", "/harm/decisions"): HARM_MATRIX,
    ("GET", "/harm/import"): HARM_MATRIX,
    ("POST", "/harm/import"): HARM_MATRIX,
    ("GET", "/api/harm/matrix"): HARM_MATRIX,
    ("POST", "/api/harm/runs"): HARM_MATRIX,
    # evidence
    ("POST", "/api/evidence/crime-batches"): CRIME_MATCHING,
    ("GET", "/api/evidence/crime-batches"): CRIME_MATCHING,
    ("GET", "/api/evidence/crime-batches/{batch_id}"): CRIME_MATCHING,
    ("POST", "/api/evidence/crime-batches/{batch_id}/runs"): CRIME_MATCHING,
    ("GET", "/api/evidence/runs/{run_id}"): CRIME_MATCHING,
    ("POST", "/api/evidence/matches/{match_id}/review"): MATCH_REVIEW,
    ("GET", "/api/evidence/runs/{run_id}/export"): CRIME_MATCHING,
    ("POST", "/api/evidence/persons/{person_id}/weekly"): WEEKLY_OVERVIEW,
    ("GET", "/api/evidence/persons/{person_id}/weekly"): WEEKLY_OVERVIEW,
    ("GET", "/api/evidence/weekly/{weekly_id}"): WEEKLY_OVERVIEW,
    ("POST", "/api/evidence/persons/{person_id}/packs"): EVIDENCE_PACKS,
    ("GET", "/api/evidence/persons/{person_id}/packs"): EVIDENCE_PACKS,
    ("GET", "/api/evidence/packs/{pack_id}"): EVIDENCE_PACKS,
    ("GET", "/api/evidence/persons/{person_id}/trail"): TRAIL_READ,
    ("GET", "/api/evidence/statistics"): PROGRAMME_STATISTICS,
    ("GET", "/api/evidence/persons/{person_id}/subject-access"): SUBJECT_ACCESS,
    ("GET", "/evidence"): EVIDENCE_HOME,
    ("GET", "/evidence/crime"): CRIME_MATCHING,
    ("POST", "/evidence/crime/upload"): CRIME_MATCHING,
    ("GET", "/evidence/crime/batches/{batch_id}"): CRIME_MATCHING,
    ("POST", "/evidence/crime/batches/{batch_id}/run"): CRIME_MATCHING,
    ("GET", "/evidence/crime/runs/{run_id}"): CRIME_MATCHING,
    ("POST", "/evidence/crime/matches/{match_id}/review"): MATCH_REVIEW,
    ("GET", "/evidence/crime/runs/{run_id}/export"): CRIME_MATCHING,
    ("GET", "/evidence/persons/{person_id}"): PERSON_EVIDENCE,
    ("POST", "/evidence/persons/{person_id}/weekly"): WEEKLY_OVERVIEW,
    ("GET", "/evidence/weekly/{weekly_id}"): WEEKLY_OVERVIEW,
    ("POST", "/evidence/persons/{person_id}/packs"): EVIDENCE_PACKS,
    ("GET", "/evidence/packs/{pack_id}"): EVIDENCE_PACKS,
    ("GET", "/evidence/persons/{person_id}/trail"): PERSON_EVIDENCE,
    ("GET", "/evidence/statistics"): PROGRAMME_STATISTICS,
    # the alert queue and an alert's page (alerts/pages.py)
    ("GET", "/alerts/queue"): ALERTS_WORK,
    ("GET", "/alerts/sounds/critical.wav"): ALERTS_WORK,
    ("GET", "/alerts/{alert_id}"): ALERTS_WORK,
    ("POST", "/alerts/{alert_id}/acknowledge"): ALERTS_WORK,
    ("POST", "/alerts/{alert_id}/escalate"): ALERTS_WORK,
    ("POST", "/alerts/{alert_id}/resolve"): ALERTS_RESOLVE,
    ("POST", "/alerts/{alert_id}/call"): ALERTS_WORK,
    ("POST", "/alerts/{alert_id}/claim"): ALERTS_WORK,
    ("GET", "/persons/{person_id}/wearer-view"): PERSONS_READ,
    ("GET", "/postcodes/{postcode}"): POSTCODE_LOOKUP,
    # the old monitoring centre addresses: each answers a redirect to the page's one address
    ("GET", "/monitoring/queue"): ALERTS_WORK,
    ("GET", "/monitoring/alerts/{alert_id}"): ALERTS_WORK,
    ("POST", "/monitoring/alerts/{alert_id}/acknowledge"): ALERTS_WORK,
    ("POST", "/monitoring/alerts/{alert_id}/escalate"): ALERTS_WORK,
    ("POST", "/monitoring/alerts/{alert_id}/resolve"): ALERTS_RESOLVE,
    ("POST", "/monitoring/alerts/{alert_id}/call"): ALERTS_WORK,
    ("POST", "/monitoring/alerts/{alert_id}/claim"): ALERTS_WORK,
    ("GET", "/monitoring/caseload"): PERSONS_READ,
    ("GET", "/monitoring/persons/{person_id}"): PERSONS_READ,
    ("GET", "/monitoring/persons/{person_id}/wearer-view"): PERSONS_READ,
    ("GET", "/monitoring/postcodes/{postcode}"): POSTCODE_LOOKUP,
    ("GET", "/monitoring/persons/{person_id}/orders/new"): ORDERS_WRITE,
    ("POST", "/monitoring/persons/{person_id}/orders/new"): ORDERS_WRITE,
    ("GET", "/monitoring/orders/{order_id}/vary"): ORDERS_WRITE,
    ("POST", "/monitoring/orders/{order_id}/vary"): ORDERS_WRITE,
}


def route_permission(method: str, path_format: str) -> Permission | None:
    """The permission declared for a route (HEAD is served as GET), or None when undeclared."""
    method = "GET" if method == "HEAD" else method
    return ROUTE_PERMISSIONS.get((method, path_format))
