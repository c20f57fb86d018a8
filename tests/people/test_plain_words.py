"""The pages of alerts, people and devices speak in names and words: no "Person 7", no
"user:9:officer", no ``strap_removed`` in what a reader sees, whatever has happened to an alert."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import log_in
from tests.demo_pilot import person_in, raise_alert
from tests.people.visible_text import internal_words
from vigil.bootstrap import Container
from vigil.devices.model import DeviceType
from vigil.engine.events import EventKind
from vigil.people import protected_details
from vigil.security.model import Principal, Role
from vigil.security.tables import audit_log
from vigil.sim.demo import DEMO_PASSWORD
from vigil.words import actor_name, code_label

BIRMINGHAM = "Birmingham North"
OPERATOR = Principal(id=1, name="operator", role=Role.MONITORING_OPERATOR)


def _work_through_alerts(demo: Container, client: TestClient, person_id: int) -> list[int]:
    """Alerts of several kinds, claimed, escalated, called about and resolved: every history
    action and status shows on some page."""
    token = log_in(client, "operator", DEMO_PASSWORD)
    strap = raise_alert(demo, person_id, EventKind.STRAP_REMOVED)
    close = raise_alert(demo, person_id, EventKind.PROXIMITY)
    silent = raise_alert(demo, person_id, EventKind.NO_COMMUNICATION)
    for action, data in (
        ("claim", {}),
        ("call", {"call_wearer": "done", "note": "no answer"}),
        ("escalate", {"note": "no answer from the wearer"}),
        ("acknowledge", {}),
    ):
        client.post(f"/alerts/{strap}/{action}", data={"csrf_token": token, **data})
    client.post(
        f"/alerts/{silent}/resolve",
        data={"csrf_token": token, "outcome": "technical_fault", "note": "battery replaced"},
    )
    return [strap, close, silent]


def _pages(demo: Container, person_id: int, alert_ids: list[int]) -> list[str]:
    with demo.uow() as uow:
        protected = protected_details.protected_person_refs(uow, person_id)
    return [
        "/alerts/queue",
        *(f"/alerts/{alert_id}" for alert_id in alert_ids),
        "/caseload",
        f"/persons/{person_id}",
        f"/persons/{person_id}/wearer-view",
        *(f"/protected-persons/{pid}" for pid, _ in protected),
        "/devices",
        "/account",
    ]


def test_no_page_shows_an_internal_id_a_stored_actor_or_a_raw_code(
    demo: Container, demo_client: TestClient
) -> None:
    person = person_in(demo, BIRMINGHAM)
    alert_ids = _work_through_alerts(demo, demo_client, person.id)
    found = []
    for username in ("operator", "officer", "police.wmp", "admin"):
        demo_client.cookies.clear()
        log_in(demo_client, username, DEMO_PASSWORD)
        for path in _pages(demo, person.id, alert_ids):
            page = demo_client.get(path)
            if page.status_code == 404:  # outside this user's caseload
                continue
            assert page.status_code == 200, (username, path)
            found += [(username, path, w) for w in internal_words(page.text)]
    assert found == [], "\n".join(map(str, found))


def test_codes_read_as_labels_and_actors_as_names() -> None:
    assert code_label("strap_removed") == "Strap removed"
    assert code_label("starts_at") == "Starts at"
    assert code_label(DeviceType.GPS_TAG) == "GPS tag"
    assert actor_name("user:9:officer") == "officer"
    assert actor_name("token:3:prison-phones") == "prison-phones (machine)"
    assert actor_name("system:alerts") == "Vigil"
    assert actor_name(None) == ""


def test_protected_persons_are_named_for_roles_that_may_see_them_and_each_name_read_is_audited(
    demo: Container, demo_client: TestClient
) -> None:
    person = person_in(demo, BIRMINGHAM)
    alert_id = raise_alert(demo, person.id, EventKind.PROXIMITY)
    with demo.uow() as uow:
        named = protected_details.named_protected_persons(uow, OPERATOR, demo.cipher, person.id)
    names = [p.full_name for p in named]
    assert names
    assert all(names)
    log_in(demo_client, "operator", DEMO_PASSWORD)
    contacts = demo_client.get(f"/alerts/{alert_id}").text.split('data-testid="protected-contacts"')
    assert f'href="/protected-persons/{named[0].id}">{names[0]} (' in contacts[1]
    with demo.uow() as uow:
        viewed = uow.connection.execute(
            select(audit_log.c.detail).where(audit_log.c.action == "protected_person.view")
        ).all()
    assert viewed, "showing a protected person's name is a recorded read of their details"

    demo_client.cookies.clear()
    log_in(demo_client, "admin", DEMO_PASSWORD)  # administrators never see who is protected
    page = demo_client.get(f"/persons/{person.id}").text
    assert names[0] not in page
    assert "(details withheld for your role)" in page


def test_the_queue_names_the_wearer_with_their_crn(
    demo: Container, demo_client: TestClient
) -> None:
    person = person_in(demo, BIRMINGHAM)
    alert_id = raise_alert(demo, person.id, EventKind.CURFEW)
    log_in(demo_client, "operator", DEMO_PASSWORD)
    row = demo_client.get("/alerts/queue").text.split(f'data-alert-id="{alert_id}"')[1]
    assert person.full_name in row.split("</tr>")[0]
    assert str(person.crn) in row.split("</tr>")[0]


def test_the_evidence_page_finds_a_person_by_crn_or_name_never_by_row_id(
    demo: Container, demo_client: TestClient
) -> None:
    person = person_in(demo, BIRMINGHAM)
    log_in(demo_client, "officer", DEMO_PASSWORD)
    hub = demo_client.get("/evidence").text
    assert "Person id" not in hub
    assert "Name, CRN, PNC id or prison number" in hub
    by_crn = demo_client.get(
        "/evidence", params={"person": f" {str(person.crn).lower()} "}, follow_redirects=False
    )
    assert by_crn.headers["location"] == f"/evidence/persons/{person.id}"
    by_name = demo_client.get("/evidence", params={"person": person.last_name})
    listed = by_name.text.split('data-testid="person-matches"')
    assert by_name.status_code == 200
    if len(listed) > 1:  # several share the surname: each is listed with what tells them apart
        assert f'href="/evidence/persons/{person.id}"' in listed[1]
    nobody = demo_client.get("/evidence", params={"person": "Nobody Ofthatname"})
    assert nobody.status_code == 400
    assert "No one in your caseload has that name" in nobody.text
    by_id = demo_client.get("/evidence", params={"person": str(person.id)})
    assert by_id.status_code == 400  # a row id finds no one
    too_long = demo_client.get("/evidence", params={"person": "x" * 500})
    assert too_long.status_code == 400
    assert "Enter at most 100 characters" in too_long.text
