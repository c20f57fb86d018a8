"""The caseload with each wearer's status, a person's map and trail (audited), what the wearer
is shown."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import log_in
from tests.demo_pilot import exclusion_zone, person_in, persons, raise_alert
from vigil.bootstrap import Container
from vigil.engine.events import EventKind
from vigil.security.tables import audit_log
from vigil.sim.demo import DEMO_PASSWORD
from vigil.tracking import store
from vigil.tracking.model import Fix

NOTTINGHAM = "Nottingham City"
BIRMINGHAM = "Birmingham North"


def _audit_actions(container: Container) -> list[str]:
    with container.uow() as uow:
        return list(uow.connection.execute(select(audit_log.c.action)).scalars())


def test_the_caseload_shows_each_wearers_status_for_the_officers_team_only(
    demo: Container, demo_client: TestClient
) -> None:
    brum = person_in(demo, BIRMINGHAM)
    raise_alert(demo, brum.id, EventKind.CURFEW)
    log_in(demo_client, "officer", DEMO_PASSWORD)
    page = demo_client.get("/caseload")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="govuk-table__row" data-status="(\w+)">', page.text)
    assert len(rows) == 11  # ten wearers and a prisoner due out (no order yet)
    assert rows[0] == "open_alerts"  # those needing attention come first
    assert rows[-1] == "no_order"
    assert NOTTINGHAM not in page.text
    # Nobody has sent a fix yet: every tagged wearer's silence is a device issue.
    assert rows.count("device_issues") == 9
    assert "Now (since 19:00)" in page.text or "19:00" in page.text


def test_the_caseload_lists_a_removed_strap_first_and_compliant_wearers_last(
    demo: Container, demo_client: TestClient
) -> None:
    team = [p for p in persons(demo) if p.team_name == BIRMINGHAM]
    curfew, strap, compliant = team[0], team[1], team[2]
    raise_alert(demo, curfew.id, EventKind.CURFEW)
    raise_alert(demo, strap.id, EventKind.STRAP_REMOVED)
    now = demo.clock.now()
    fresh = Fix(
        device_id="caseload-tag",
        fix_time=now - timedelta(minutes=1),
        receive_time=now - timedelta(seconds=50),
        lat=52.5,
        lon=-1.9,
        protocol="osmand",
        accuracy_m=8.0,
    )
    with demo.uow() as uow:
        store.append(uow.connection, [fresh], [compliant.id])
        uow.commit()
    log_in(demo_client, "officer", DEMO_PASSWORD)
    page = demo_client.get("/caseload").text
    statuses = re.findall(r'<tr class="govuk-table__row" data-status="(\w+)">', page)
    links = re.findall(r'<a class="govuk-link" href="/persons/(\d+)">', page)
    assert statuses[:2] == ["open_alerts", "open_alerts"]
    assert links[:2] == [str(strap.id), str(curfew.id)]  # critical before high
    assert statuses[-1] == "compliant"
    assert links[-1] == str(compliant.id)


def test_a_trail_needs_a_reason_and_every_view_of_it_is_recorded(
    demo: Container, demo_client: TestClient
) -> None:
    brum = person_in(demo, BIRMINGHAM)
    log_in(demo_client, "officer", DEMO_PASSWORD)
    plain = demo_client.get(f"/persons/{brum.id}")
    assert plain.status_code == 200
    assert "trail.view" not in _audit_actions(demo)
    window = {"from": "2026-11-23T06:00", "to": "2026-11-23T09:00"}
    no_reason = demo_client.get(f"/persons/{brum.id}", params=window)
    assert no_reason.status_code == 400
    assert 'href="#reason"' in no_reason.text
    shown = demo_client.get(f"/persons/{brum.id}", params={**window, "reason": "Weekly review"})
    assert shown.status_code == 200
    assert 'data-testid="trail-summary"' in shown.text
    assert _audit_actions(demo).count("trail.view") == 1
    notts = person_in(demo, NOTTINGHAM)
    assert demo_client.get(f"/persons/{notts.id}").status_code == 404


def test_the_wearer_view_never_contains_the_protected_persons_address(
    demo: Container, demo_client: TestClient
) -> None:
    brum = person_in(demo, BIRMINGHAM)
    _id, zone = exclusion_zone(demo, brum.id)
    lon, lat = zone["geometry"]["coordinates"]  # type: ignore[index]
    log_in(demo_client, "officer", DEMO_PASSWORD)
    page = demo_client.get(f"/persons/{brum.id}/wearer-view")
    assert page.status_code == 200
    for digits in (4, 3):
        assert f"{lat:.{digits}f}" not in page.text
        assert f"{lon:.{digits}f}" not in page.text
    assert '"type":"Point"' not in page.text.split("wearer-map-data")[1].split("curfew")[0]


def test_the_old_monitoring_addresses_redirect_to_each_pages_one_address(
    demo: Container, demo_client: TestClient
) -> None:
    brum = person_in(demo, BIRMINGHAM)
    alert_id = raise_alert(demo, brum.id, EventKind.CURFEW)
    log_in(demo_client, "officer", DEMO_PASSWORD)
    moved = {
        "/monitoring/queue?kind=curfew": "/alerts/queue?kind=curfew",
        f"/monitoring/alerts/{alert_id}": f"/alerts/{alert_id}",
        "/monitoring/caseload": "/caseload",
        f"/monitoring/persons/{brum.id}?reason=x": f"/persons/{brum.id}?reason=x",
        f"/monitoring/persons/{brum.id}/wearer-view": f"/persons/{brum.id}/wearer-view",
        f"/monitoring/persons/{brum.id}/orders/new": f"/persons/{brum.id}/orders/new",
        "/monitoring/postcodes/SE1%202DL": "/postcodes/SE1%202DL",
    }
    for old, new in moved.items():
        answer = demo_client.get(old, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (308, new), old
    # A form posted to an old address keeps its method and body, so it still acts.
    token = re.search(r'name="csrf_token" value="([^"]+)"', demo_client.get("/").text)
    assert token
    claimed = demo_client.post(
        f"/monitoring/alerts/{alert_id}/claim", data={"csrf_token": token.group(1)}
    )
    assert claimed.status_code == 200
    assert "(you)" in claimed.text
