"""The permission matrix: every route of the app, every role, pinned.

Generated from the router: a route that is not in ``PINNED`` fails, and so does a route whose
declared permission (vigil.security.permissions) or whose behaviour differs from the pin. Each
role asks each route once; a refused role must get 403 before anything else (validation, scope),
an admitted role anything but 403. Machine tokens get exactly their job.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Route

from tests.conftest import START, log_in, make_settings
from tests.people.registry import PASSWORD, build_registry
from vigil.bootstrap import Container, build_container
from vigil.clock import FrozenClock
from vigil.security import machine_tokens
from vigil.security import service as security
from vigil.security.model import Role
from vigil.security.permissions import route_permission
from vigil.web.app import create_app

ROLE_CODES = {
    "OP": Role.MONITORING_OPERATOR,
    "PO": Role.PROBATION_OFFICER,
    "PC": Role.POLICE,
    "CH": Role.UPCS_CASE_HANDLER,
    "AN": Role.ANALYST,
    "AD": Role.ADMIN,
    "AU": Role.AUDITOR,
    "GW": Role.DEVICE_GATEWAY,
    "PS": Role.PRISON_SYSTEM,
}
USERS = {
    Role.MONITORING_OPERATOR: "operator",
    Role.PROBATION_OFFICER: "officer",
    Role.POLICE: "police.wmp",
    Role.UPCS_CASE_HANDLER: "casehandler",
    Role.ANALYST: "analyst",
    Role.ADMIN: "admin",
    Role.AUDITOR: "auditor",
}

# "METHOD path: roles"; "anyone" means no sign-in is needed.
PINNED = """
GET /healthz: anyone OP PO PC CH AN AD AU GW PS
GET /readyz: anyone OP PO PC CH AN AD AU GW PS
GET /livez: anyone OP PO PC CH AN AD AU GW PS
GET /metrics: anyone OP PO PC CH AN AD AU GW PS
POST /api/devices/{device_id}/key: OP AD
GET /devices/refused: OP AD
GET /api/gateways/quarantine: OP AD
GET /admin/dead-letters: AD
POST /admin/dead-letters/{letter_id}/replay: AD
GET /api/evidence/persons/{person_id}/subject-access: AD
GET /login: anyone OP PO PC CH AN AD AU
POST /login: anyone OP PO PC CH AN AD AU
POST /login/code: anyone OP PO PC CH AN AD AU
GET /login/sso: anyone OP PO PC CH AN AD AU
GET /login/sso/callback: anyone OP PO PC CH AN AD AU
GET /account: OP PO PC CH AN AD AU
POST /account/alert-notifications: OP PO PC CH AN AD AU
GET /account/two-factor: OP PO PC CH AN AD AU
POST /account/two-factor: OP PO PC CH AN AD AU
POST /logout: OP PO PC CH AN AD AU
POST /logout-everywhere: OP PO PC CH AN AD AU
POST /api/users/{user_id}/sessions/end: AD
GET /api/me: OP PO PC CH AN AD AU GW PS
GET /api/audit/verify: AD AU
GET /: OP PO PC CH AN AD AU
GET /caseload: OP PO PC AD
GET /persons/{person_id}: OP PO PC AD
GET /protected-persons/{protected_id}: OP PO PC AD
GET /api/persons: OP PO PC AD
POST /api/persons: OP PO AD
GET /api/persons/{person_id}: OP PO PC AD
PUT /api/persons/{person_id}: OP PO AD
GET /api/persons/{person_id}/protected-persons: OP PO PC AD
POST /api/persons/{person_id}/protected-persons: OP PO PC AD
GET /api/protected-persons/{protected_id}: OP PO PC AD
GET /api/regions: OP PO PC CH AN AD AU
GET /api/force-areas: OP PO PC CH AN AD AU
GET /api/teams: OP PO PC CH AN AD AU
POST /api/teams: AD
GET /api/officers: OP PO PC AD
POST /api/officers: AD
GET /api/prisons: OP PO PC CH AN AD AU
GET /persons/{person_id}/orders/new: PO AD
POST /persons/{person_id}/orders/new: PO AD
GET /orders/{order_id}: OP PO PC AD
GET /orders/{order_id}/vary: PO AD
POST /orders/{order_id}/vary: PO AD
GET /api/orders: OP PO PC AD
POST /api/orders: PO AD
GET /api/orders/{order_id}: OP PO PC AD
GET /api/orders/{order_id}/versions: OP PO PC AD
POST /api/orders/{order_id}/versions: PO AD
GET /api/eligibility: OP PO PC AD
POST /api/eligibility: PO AD
GET /api/monitoring-plan: OP AD
GET /devices: OP PO PC AD
GET /api/devices: OP PO PC AD
POST /api/devices: OP AD
GET /api/devices/{device_id}: OP PO PC AD
GET /api/devices/{device_id}/allocations: OP PO PC AD
POST /api/devices/{device_id}/allocations: OP AD
POST /api/devices/{device_id}/removal: OP AD
GET /api/device-holders/{external_id}: OP AD
POST /api/contact/requests: anyone OP PO PC CH AN AD AU
POST /api/contact/intelligence: anyone OP PO PC CH AN AD AU
POST /api/contact/call-check: PS
POST /api/contact/mail-check: PS
GET /api/contact/barred-numbers: PS
GET /api/contact/cases: CH
GET /api/contact/cases/{case_id}: CH
GET /api/contact/cases/{case_id}/candidates: CH
POST /api/contact/cases/{case_id}/match: CH
POST /api/contact/cases/{case_id}/bars: CH
POST /api/contact/bars/{bar_id}/lift: CH
POST /api/contact/cases/{case_id}/decline: CH
POST /api/contact/cases/{case_id}/information: CH
POST /api/contact/cases/{case_id}/notes: CH
GET /api/contact/alerts: CH
GET /api/contact/statistics: CH
GET /contact: anyone OP PO PC CH AN AD AU
GET /contact/who: anyone OP PO PC CH AN AD AU
POST /contact/who: anyone OP PO PC CH AN AD AU
GET /contact/consent: anyone OP PO PC CH AN AD AU
POST /contact/consent: anyone OP PO PC CH AN AD AU
GET /contact/your-details: anyone OP PO PC CH AN AD AU
POST /contact/your-details: anyone OP PO PC CH AN AD AU
GET /contact/safe-contact: anyone OP PO PC CH AN AD AU
POST /contact/safe-contact: anyone OP PO PC CH AN AD AU
GET /contact/contact-so-far: anyone OP PO PC CH AN AD AU
POST /contact/contact-so-far: anyone OP PO PC CH AN AD AU
GET /contact/prisoner: anyone OP PO PC CH AN AD AU
POST /contact/prisoner: anyone OP PO PC CH AN AD AU
GET /contact/person/{index}: anyone OP PO PC CH AN AD AU
POST /contact/person/{index}: anyone OP PO PC CH AN AD AU
GET /contact/person/{index}/address: anyone OP PO PC CH AN AD AU
POST /contact/person/{index}/address: anyone OP PO PC CH AN AD AU
GET /contact/person/{index}/remove: anyone OP PO PC CH AN AD AU
POST /contact/person/{index}/remove: anyone OP PO PC CH AN AD AU
GET /contact/another-person: anyone OP PO PC CH AN AD AU
POST /contact/another-person: anyone OP PO PC CH AN AD AU
GET /contact/check: anyone OP PO PC CH AN AD AU
POST /contact/check: anyone OP PO PC CH AN AD AU
GET /contact/confirmation: anyone OP PO PC CH AN AD AU
GET /contact/report: anyone OP PO PC CH AN AD AU
POST /contact/report: anyone OP PO PC CH AN AD AU
GET /contact/cases: CH
GET /contact/cases/find: CH
GET /contact/cases/{case_id}: CH
POST /contact/cases/{case_id}/assign: CH
POST /contact/cases/{case_id}/notes: CH
POST /contact/cases/{case_id}/match: CH
POST /contact/cases/{case_id}/bar: CH
POST /contact/cases/{case_id}/decline: CH
POST /contact/cases/{case_id}/information: CH
POST /contact/cases/{case_id}/bars/{bar_id}/lift: CH
POST /contact/alerts/{alert_id}/acknowledge: CH
GET /contact/security: CH
GET /contact/statistics: CH
GET /contact/statistics.csv: CH
GET /api/trail/near: OP PO PC AD
GET /api/trail/unknown-devices: OP AD
GET /api/trail/persons/{person_id}: OP PO PC AD
GET /api/trail/persons/{person_id}/account: OP PO PC AD
GET /api/alerts: OP PO PC AD
GET /api/alerts/stream: OP PO PC AD
GET /api/alerts/{alert_id}: OP PO PC AD
POST /api/alerts/{alert_id}/acknowledge: OP PO PC AD
POST /api/alerts/{alert_id}/escalate: OP PO PC AD
POST /api/alerts/{alert_id}/resolve: OP PO AD
POST /api/alerts/{alert_id}/notes: OP PO PC AD
POST /api/alerts/suppressions: OP PO AD
DELETE /api/alerts/suppressions/{suppression_id}: OP PO AD
PUT /api/alerts/protected-persons/{protected_person_id}/notifications: OP PO AD
POST /api/gateways/fixes: GW
POST /api/gateways/import: AD GW
GET /api/gateways/metrics: AD GW
GET /api/persons/{person_id}/links: OP PO CH AN AD
POST /api/persons/{person_id}/links/find: PO AD
POST /api/links/{link_id}/confirm: PO CH AN AD
POST /api/links/{link_id}/undo: PO CH AN AD
GET /api/persons/{person_id}/story: OP PO
GET /api/release-plan: PO
GET /release-plan: PO
POST /persons/{person_id}/links/find: PO AD
POST /links/{link_id}/confirm: PO CH AN AD
POST /links/{link_id}/undo: PO CH AN AD
GET /harm: AN
POST /harm/runs: AN
GET /harm/person/{person_id}: AN
POST /harm/reviews: AN
POST /harm/reviews/{review_id}/close: AN
GET /harm/reviews: AN
POST /harm/decisions: AN
GET /harm/import: AN
POST /harm/import: AN
GET /api/harm/matrix: AN
POST /api/harm/runs: AN
POST /api/evidence/crime-batches: PC AN AD
GET /api/evidence/crime-batches: PC AN AD
GET /api/evidence/crime-batches/{batch_id}: PC AN AD
POST /api/evidence/crime-batches/{batch_id}/runs: PC AN AD
GET /api/evidence/runs/{run_id}: PC AN AD
POST /api/evidence/matches/{match_id}/review: PC AN AD
GET /api/evidence/runs/{run_id}/export: PC AN AD
POST /api/evidence/persons/{person_id}/weekly: OP PO AD
GET /api/evidence/persons/{person_id}/weekly: OP PO AD
GET /api/evidence/weekly/{weekly_id}: OP PO AD
POST /api/evidence/persons/{person_id}/packs: OP PO AD
GET /api/evidence/persons/{person_id}/packs: OP PO AD
GET /api/evidence/packs/{pack_id}: OP PO AD
GET /api/evidence/persons/{person_id}/trail: OP PO PC AD
GET /api/evidence/statistics: AN AD
GET /evidence: OP PO PC AN AD
GET /evidence/crime: PC AN AD
POST /evidence/crime/upload: PC AN AD
GET /evidence/crime/batches/{batch_id}: PC AN AD
POST /evidence/crime/batches/{batch_id}/run: PC AN AD
GET /evidence/crime/runs/{run_id}: PC AN AD
POST /evidence/crime/matches/{match_id}/review: PC AN AD
GET /evidence/crime/runs/{run_id}/export: PC AN AD
GET /evidence/persons/{person_id}: OP PO AD
POST /evidence/persons/{person_id}/weekly: OP PO AD
GET /evidence/weekly/{weekly_id}: OP PO AD
POST /evidence/persons/{person_id}/packs: OP PO AD
GET /evidence/packs/{pack_id}: OP PO AD
GET /evidence/persons/{person_id}/trail: OP PO AD
GET /evidence/statistics: AN AD
GET /alerts/queue: OP PO PC AD
GET /alerts/sounds/critical.wav: OP PO PC AD
GET /alerts/{alert_id}: OP PO PC AD
POST /alerts/{alert_id}/acknowledge: OP PO PC AD
POST /alerts/{alert_id}/escalate: OP PO PC AD
POST /alerts/{alert_id}/resolve: OP PO AD
POST /alerts/{alert_id}/call: OP PO PC AD
POST /alerts/{alert_id}/claim: OP PO PC AD
GET /persons/{person_id}/wearer-view: OP PO PC AD
GET /postcodes/{postcode}: PO AD
GET /monitoring/queue: OP PO PC AD
GET /monitoring/alerts/{alert_id}: OP PO PC AD
POST /monitoring/alerts/{alert_id}/acknowledge: OP PO PC AD
POST /monitoring/alerts/{alert_id}/escalate: OP PO PC AD
POST /monitoring/alerts/{alert_id}/resolve: OP PO AD
POST /monitoring/alerts/{alert_id}/call: OP PO PC AD
POST /monitoring/alerts/{alert_id}/claim: OP PO PC AD
GET /monitoring/caseload: OP PO PC AD
GET /monitoring/persons/{person_id}: OP PO PC AD
GET /monitoring/persons/{person_id}/wearer-view: OP PO PC AD
GET /monitoring/postcodes/{postcode}: PO AD
GET /monitoring/persons/{person_id}/orders/new: PO AD
POST /monitoring/persons/{person_id}/orders/new: PO AD
GET /monitoring/orders/{order_id}/vary: PO AD
POST /monitoring/orders/{order_id}/vary: PO AD
"""

# Signing in and out change the caller's session; the alert stream never ends for an admitted
# role. These are checked for refusals only.
REFUSALS_ONLY = {
    ("POST", "/login"),
    ("POST", "/login/code"),
    ("POST", "/logout"),
    ("POST", "/logout-everywhere"),
    ("GET", "/api/alerts/stream"),
}


def _pinned() -> dict[tuple[str, str], tuple[bool, frozenset[Role]]]:
    out = {}
    for line in PINNED.strip().splitlines():
        route, codes = line.split(": ")
        method, path = route.split(" ", 1)
        words = codes.split()
        out[(method, path)] = (
            "anyone" in words,
            frozenset(ROLE_CODES[w] for w in words if w != "anyone"),
        )
    return out


def _routes(app: object) -> list[tuple[str, str]]:
    found = set()
    for context in iter_route_contexts(app.routes):  # type: ignore[attr-defined]
        route = context.route
        if isinstance(route, APIRoute) or (
            isinstance(route, Route) and context.path_format.startswith("/api/")
        ):
            for method in set(route.methods or ()) - {"HEAD"}:
                found.add((method, context.path_format))
    return sorted(found)


@pytest.fixture
def sqlite_container(tmp_path: Path, sqlite_template: Path) -> Iterator[Container]:
    path = tmp_path / "vigil.db"
    shutil.copy(sqlite_template, path)
    built = build_container(make_settings(f"sqlite:///{path}"), clock=FrozenClock(START))
    yield built
    built.engine.dispose()


def test_every_route_declares_the_pinned_permission(sqlite_container: Container) -> None:
    app = create_app(sqlite_container)
    pinned = _pinned()
    routes = _routes(app)
    assert len(routes) > 150
    problems = []
    for method, path in routes:
        declared = route_permission(method, path)
        if declared is None:
            problems.append(f"{method} {path}: no permission declared")
        elif (method, path) not in pinned:
            problems.append(f"{method} {path}: not pinned in this test")
        elif pinned[(method, path)] != (declared.anonymous, declared.roles):
            problems.append(f"{method} {path}: declared {declared.name} differs from the pin")
    stale = set(pinned) - set(routes)
    problems.extend(f"{m} {p}: pinned but no such route" for m, p in sorted(stale))
    assert problems == [], "\n".join(problems)


def test_each_role_gets_exactly_what_is_pinned(sqlite_container: Container) -> None:
    c = sqlite_container
    client = TestClient(create_app(c), raise_server_exceptions=False)
    build_registry(c)
    with c.uow() as uow:
        security.add_user(
            uow, username="casehandler", password=PASSWORD, role=Role.UPCS_CASE_HANDLER
        )
        security.add_user(uow, username="auditor", password=PASSWORD, role=Role.AUDITOR)
        uow.commit()
    with c.uow() as uow:
        gateway = machine_tokens.create_token(uow, role=Role.DEVICE_GATEWAY, name="gateway")
        uow.commit()
    with c.uow() as uow:
        prison = machine_tokens.create_token(uow, role=Role.PRISON_SYSTEM, name="phones")
        uow.commit()
    tokens = {Role.DEVICE_GATEWAY: gateway, Role.PRISON_SYSTEM: prison}
    pinned = _pinned()
    wrong = []
    for role in ROLE_CODES.values():
        client.cookies.clear()
        if role in tokens:
            headers = {"authorization": f"Bearer {tokens[role]}"}
        else:
            headers = {"x-csrf-token": log_in(client, USERS[role], PASSWORD)}
        for (method, path), (_anyone, roles) in pinned.items():
            admitted = role in roles
            if admitted and (method, path) in REFUSALS_ONLY:
                continue
            url = re.sub(r"\{(\w+)(:\w+)?\}", "1", path)
            response = client.request(
                method,
                url,
                headers={**headers, "accept": "application/json"},
                json={},
                follow_redirects=False,
            )
            # A refusal names the role; other 403s (the public form's own CSRF check) are not one.
            refused = response.status_code == 403 and "may not do this" in response.text
            if admitted == refused:
                wrong.append(f"{role}: {method} {path} -> {response.status_code}")
    assert wrong == [], "\n".join(wrong)
