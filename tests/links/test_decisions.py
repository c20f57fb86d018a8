"""Confirming and undoing links, by the service each link reaches; and what a case handler and
an analyst learn of a man another service tags."""

from __future__ import annotations

import json
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import log_in
from tests.demo_pilot import persons
from vigil.bootstrap import Container
from vigil.links import story
from vigil.people import service as people
from vigil.people.model import PersonDraft, RiskLevel
from vigil.security.model import SYSTEM, Principal, Role
from vigil.security.tables import audit_log
from vigil.sim.demo import DEMO_PASSWORD
from vigil.sim.demo_teams import TEAMS

OFFICER = TEAMS[0].login


def _sign_in(client: TestClient, username: str) -> None:
    """A fresh session for ``username``; API writes carry its CSRF token as a header."""
    client.cookies.clear()
    client.headers["x-csrf-token"] = log_in(client, username, DEMO_PASSWORD)


def _new_person_like_the_registers_jonathan_smyth(demo: Container) -> int:
    """The demo register's A1234BC is Jonathan Smyth, born 7 March 1985; this man has no prison
    number, so only his name and date of birth can link him."""
    team = sorted(persons(demo), key=lambda p: p.id)[0]
    with demo.uow() as uow:
        person_id = people.create_person(
            uow,
            SYSTEM,
            PersonDraft(
                first_name="Jonathon",
                last_name="Smyth",
                date_of_birth=date(1985, 3, 7),
                managing_team_id=team.managing_team_id,
                force_area=team.force_area,
                risk_level=RiskLevel.MEDIUM,
                crn="X999001",
            ),
        )
        uow.commit()
    return person_id


def _proposed(client: TestClient, person_id: int) -> dict[str, object]:
    found = client.post(f"/api/persons/{person_id}/links/find")
    assert found.status_code == 200, found.text
    assert found.json()["proposed"] == 1
    (link,) = client.get(f"/api/persons/{person_id}/links").json()
    assert (link["target"], link["target_key"], link["status"]) == (
        "prisoner",
        "A1234BC",
        "proposed",
    )
    return dict(link)


def test_a_case_handler_confirms_a_prisoner_link_an_analyst_may_not(
    demo: Container, demo_client: TestClient
) -> None:
    person_id = _new_person_like_the_registers_jonathan_smyth(demo)
    _sign_in(demo_client, OFFICER)
    link = _proposed(demo_client, person_id)
    _sign_in(demo_client, "analyst")
    assert demo_client.post(f"/api/links/{link['id']}/confirm").status_code == 403
    _sign_in(demo_client, "casehandler")
    confirmed = demo_client.post(f"/api/links/{link['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["decided_by"].endswith(":casehandler")
    assert demo_client.post(f"/api/links/{link['id']}/confirm").status_code == 422


def test_an_undone_link_says_why_and_is_never_proposed_again(
    demo: Container, demo_client: TestClient
) -> None:
    person_id = _new_person_like_the_registers_jonathan_smyth(demo)
    _sign_in(demo_client, OFFICER)
    link = _proposed(demo_client, person_id)
    for reason in ("", "   ", "not him\x00"):
        refused = demo_client.post(f"/api/links/{link['id']}/undo", json={"reason": reason})
        assert refused.status_code == 422, reason
        assert refused.json()["detail"][0]["field"] == "reason"
    undone = demo_client.post(
        f"/api/links/{link['id']}/undo", json={"reason": "Different man: checked the photograph"}
    )
    assert undone.status_code == 200, undone.text
    assert undone.json()["status"] == "undone"
    again = demo_client.post(f"/api/persons/{person_id}/links/find").json()
    assert again["proposed"] == 0
    assert demo_client.get(f"/api/persons/{person_id}/links").json() == []
    with demo.uow() as uow:
        entry = uow.connection.execute(
            select(audit_log).where(audit_log.c.action == "person_link.undone")
        ).one()
    assert json.loads(entry.detail)["reason"] == "Different man: checked the photograph"


def test_a_proposed_link_shows_nothing_of_the_other_service(
    demo: Container, demo_client: TestClient
) -> None:
    person_id = _new_person_like_the_registers_jonathan_smyth(demo)
    _sign_in(demo_client, OFFICER)
    _proposed(demo_client, person_id)
    body = demo_client.get(f"/api/persons/{person_id}/story").json()
    assert body["prison"] == []
    assert [link["status"] for link in body["links"]] == ["proposed"]


def test_a_case_handler_and_an_analyst_learn_whether_he_is_tagged_and_who_manages_him(
    demo: Container,
) -> None:
    wearer = sorted(persons(demo), key=lambda p: p.id)[0]
    handler = Principal(id=90, name="casehandler", role=Role.UPCS_CASE_HANDLER)
    analyst = Principal(id=91, name="analyst", role=Role.ANALYST)
    with demo.uow() as uow:
        assert wearer.prison_number is not None
        assert wearer.pnc_id is not None
        for_case = story.tagging_for_prisoner(uow, handler, wearer.prison_number)
        for_matrix = story.tagging_for_matrix_person(uow, analyst, wearer.pnc_id)
        unknown = story.tagging_for_prisoner(uow, handler, "Z9999ZZ")
        uow.commit()
    assert for_case is not None
    assert for_matrix is not None
    assert (for_case.tagged, for_case.name, for_case.officer) == (
        True,
        wearer.full_name,
        TEAMS[0].officer,
    )
    assert for_matrix.order_id == for_case.order_id
    assert unknown is None
    with demo.uow() as uow:
        viewed = uow.connection.execute(
            select(audit_log).where(audit_log.c.action == "cross_service.tagging.viewed")
        ).all()
    assert {json.loads(row.detail)["reason"] for row in viewed} == {
        "a contact case",
        "multi-agency tasking",
    }


def test_the_case_handler_sees_on_the_case_that_the_barred_prisoner_is_tagged(
    demo: Container, demo_client: TestClient
) -> None:
    wearer = sorted(persons(demo), key=lambda p: p.id)[0]
    _sign_in(demo_client, "casehandler")
    cases = demo_client.get("/api/contact/cases").json()["cases"]
    (case,) = [c for c in cases if c["prison_number"] == wearer.prison_number]
    page = demo_client.get(f"/contact/cases/{case['id']}")
    assert page.status_code == 200
    assert f"Tagged now: {wearer.full_name}" in page.text
    assert TEAMS[0].officer in page.text


def test_the_analyst_sees_on_the_matrix_person_that_he_is_tagged(
    demo: Container, demo_client: TestClient
) -> None:
    wearer = sorted(persons(demo), key=lambda p: p.id)[0]
    _sign_in(demo_client, "analyst")
    page = demo_client.get(f"/harm/person/{wearer.pnc_id}")
    assert page.status_code == 200, page.text
    assert f"monitoring caseload knows him as {wearer.full_name}" in page.text
