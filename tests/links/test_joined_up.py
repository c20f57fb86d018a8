"""The services joined up, on the demo pilot: an officer sees his wearer's attempted contact and
matrix place, probation plans a barred prisoner's release with a proposed zone, a refused call by
a tagged wearer reaches his officer as an alert, and each role sees only what it may."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import log_in
from tests.demo_pilot import persons
from tests.people.visible_text import RAW_CODE, visible_text
from vigil.alerts.model import CONTACT_ATTEMPT_KIND, MATRIX_RISE_KIND
from vigil.alerts.tables import alert_deliveries, alerts
from vigil.bootstrap import Container
from vigil.links import crossing
from vigil.links.demo import RELEASED_SOON_NUMBER
from vigil.links.model import LinkStatus
from vigil.links.tables import person_links
from vigil.people.service import PersonView
from vigil.security.tables import audit_log
from vigil.sim.demo import DEMO_PASSWORD
from vigil.sim.demo_teams import TEAMS

OFFICER = TEAMS[0].login  # manages the demo's first wearers


def _wearer(demo: Container) -> PersonView:
    return sorted(persons(demo), key=lambda p: p.id)[0]


def _audited(demo: Container, action: str) -> list[object]:
    with demo.uow() as uow:
        rows = uow.connection.execute(select(audit_log).where(audit_log.c.action == action))
        return list(rows)


def test_the_demo_links_its_wearers_by_prison_number_and_police_id(demo: Container) -> None:
    wearer = _wearer(demo)
    with demo.uow() as uow:
        rows = uow.connection.execute(
            select(person_links).where(person_links.c.person_id == wearer.id)
        ).all()
    assert {(r.target, r.target_key, r.status) for r in rows} == {
        ("prisoner", wearer.prison_number, LinkStatus.CONFIRMED.value),
        ("matrix", wearer.pnc_id, LinkStatus.CONFIRMED.value),
    }
    assert len(_audited(demo, "person_link.confirmed")) >= 2


def test_his_officer_sees_the_refused_calls_and_his_place_in_the_matrix(
    demo: Container, demo_client: TestClient
) -> None:
    wearer = _wearer(demo)
    log_in(demo_client, OFFICER, DEMO_PASSWORD)
    story = demo_client.get(f"/api/persons/{wearer.id}/story")
    assert story.status_code == 200, story.text
    body = story.json()
    (prison,) = body["prison"]
    assert [a["outcome"] for a in prison["attempts"]] == ["call refused", "call refused"]
    assert prison["bars"][0]["numbers"] == 1
    assert "victim" not in str(prison).lower()  # the bar's counts, never whom it protects
    (place,) = body["matrix"]
    assert place["rank"] >= 1
    assert place["explanation"]
    assert _audited(demo, "cross_service.story.viewed")


def test_the_story_is_walled_by_role_and_caseload(demo: Container, demo_client: TestClient) -> None:
    wearer = _wearer(demo)
    for username, expected in (
        ("police.wmp", 403),
        ("casehandler", 403),
        ("analyst", 403),
        (TEAMS[-1].login, 404),  # another team's officer: not in his caseload
        ("operator", 200),
    ):
        demo_client.cookies.clear()
        log_in(demo_client, username, DEMO_PASSWORD)
        answer = demo_client.get(f"/api/persons/{wearer.id}/story")
        assert answer.status_code == expected, (username, answer.text)


def test_the_release_plan_lists_the_barred_prisoner_due_out_with_a_proposed_zone(
    demo: Container, demo_client: TestClient
) -> None:
    log_in(demo_client, OFFICER, DEMO_PASSWORD)
    answer = demo_client.get("/api/release-plan?weeks=4")
    assert answer.status_code == 200, answer.text
    (due,) = [c for c in answer.json() if c["prison_number"] == RELEASED_SOON_NUMBER]
    (zone,) = due["proposed_zones"]
    assert (zone["postcode"], zone["radius_m"], zone["problem"]) == ("SE1 2DL", 500, None)
    assert abs(zone["lat"] - 51.498972) < 1e-6
    assert due["person_id"] is not None
    assert due["order_id"] is None
    assert _audited(demo, "release_plan.viewed")
    assert demo_client.get("/api/release-plan?weeks=0").status_code == 422


def test_the_release_plan_page_offers_to_start_an_order_from_the_zone(
    demo_client: TestClient,
) -> None:
    log_in(demo_client, OFFICER, DEMO_PASSWORD)
    page = demo_client.get("/release-plan")
    assert page.status_code == 200
    assert RELEASED_SOON_NUMBER in page.text
    assert "orders/new?exclusion_postcode=SE1%202DL&amp;exclusion_radius=500" in page.text
    refused = demo_client.get("/release-plan?weeks=99")
    assert refused.status_code == 400
    assert "There is a problem" in refused.text
    assert demo_client.get("/release-plan?weeks=lots").status_code == 422


def test_a_tagged_wearers_refused_call_reaches_his_officer_once(demo: Container) -> None:
    wearer = _wearer(demo)
    crossing.tick(demo.alerts)
    again = crossing.tick(demo.alerts)
    assert again == []
    with demo.uow() as uow:
        raised = uow.connection.execute(
            select(alerts).where(alerts.c.person_id == str(wearer.id))
        ).all()
        kinds = sorted(r.kind for r in raised if r.source == "cross_service")
        deliveries = (
            uow.connection.execute(
                select(alert_deliveries.c.recipient).where(
                    alert_deliveries.c.alert_id.in_(
                        [r.id for r in raised if r.kind == CONTACT_ATTEMPT_KIND]
                    )
                )
            )
            .scalars()
            .all()
        )
    assert kinds == [CONTACT_ATTEMPT_KIND, CONTACT_ATTEMPT_KIND, MATRIX_RISE_KIND]
    assert f"{OFFICER}@probation.example.gov.uk" in deliveries


def test_starting_an_order_from_the_plan_places_the_zone_at_the_barred_postcode(
    demo: Container, demo_client: TestClient
) -> None:
    log_in(demo_client, OFFICER, DEMO_PASSWORD)
    plan = demo_client.get("/api/release-plan").json()
    (due,) = [c for c in plan if c["prison_number"] == RELEASED_SOON_NUMBER]
    editor = demo_client.get(
        f"/persons/{due['person_id']}/orders/new",
        params={"exclusion_postcode": "SE1 2DL", "exclusion_radius": 500},
    )
    assert editor.status_code == 200, editor.text
    assert 'value="51.498972"' in editor.text
    assert 'value="-0.071609"' in editor.text
    unknown = demo_client.get(
        f"/persons/{due['person_id']}/orders/new", params={"exclusion_postcode": "ZZ9 9ZZ"}
    )
    assert "ZZ9 9ZZ is not in the loaded postcode directory" in unknown.text
    for hostile in (
        {"exclusion_radius": "5"},
        {"exclusion_radius": "nan"},
        {"exclusion_postcode": "X" * 40},
    ):
        refused = demo_client.get(f"/persons/{due['person_id']}/orders/new", params=hostile)
        assert refused.status_code == 422, hostile


def test_his_page_tells_the_officer_the_prison_and_matrix_side_but_not_the_police(
    demo: Container, demo_client: TestClient
) -> None:
    wearer = _wearer(demo)
    log_in(demo_client, OFFICER, DEMO_PASSWORD)
    page = demo_client.get(f"/persons/{wearer.id}")
    assert page.status_code == 200
    assert "Prison contact and the harm matrix" in page.text
    assert page.text.count("call refused") == 2
    assert 'data-testid="matrix-position"' in page.text
    assert "Look for his prisoner and matrix records" in page.text
    demo_client.cookies.clear()
    log_in(demo_client, "police.wmp", DEMO_PASSWORD)
    as_police = demo_client.get(f"/persons/{wearer.id}")
    assert as_police.status_code == 200
    assert "Prison contact and the harm matrix" not in as_police.text


def test_cross_service_alerts_are_named_in_words_in_the_queue(
    demo: Container, demo_client: TestClient
) -> None:
    crossing.tick(demo.alerts)
    log_in(demo_client, "operator", DEMO_PASSWORD)
    queue = demo_client.get("/alerts/queue")
    assert "Contact attempt from prison" in queue.text
    assert "Risen in the harm matrix" in queue.text
    assert RAW_CODE.findall(visible_text(queue.text)) == []
