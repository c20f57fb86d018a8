"""The matrix pages: only the analyst role sees the top of the matrix."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tests.conftest import csrf_from, log_in
from tests.harm.test_import_and_runs import GOOD, csv
from vigil.bootstrap import Container
from vigil.harm.incident_import import import_incidents
from vigil.harm.runs import compute_run
from vigil.security import service as security
from vigil.security.model import Principal, Role

ANALYST = Principal(id=1, name="analyst", role=Role.ANALYST)

PASSWORD = "correct horse battery staple"


def _user(container: Container, name: str, role: Role) -> None:
    with container.uow() as uow:
        security.add_user(
            uow,
            username=name,
            password=PASSWORD,
            role=role,
            force_area="WMP" if role is Role.POLICE else None,
            team_id=1 if role is Role.PROBATION_OFFICER else None,
        )
        uow.commit()


def _seed_run(container: Container) -> None:
    with container.uow() as uow:
        import_incidents(uow, container.cipher, csv(*GOOD), filename="t.csv", principal=ANALYST)
        uow.commit()
    with container.uow() as uow:
        compute_run(uow, as_of=datetime(2025, 1, 1, tzinfo=UTC), principal=ANALYST)
        uow.commit()


def test_analyst_sees_the_matrix_with_explanations_and_the_notice(
    client: TestClient, container: Container
) -> None:
    _seed_run(container)
    _user(container, "analyst1", Role.ANALYST)
    log_in(client, "analyst1", PASSWORD)
    page = client.get("/harm")
    assert page.status_code == 200
    assert "84/1A" in page.text
    assert "rape" in page.text
    assert "supports human decisions and decides nothing" in page.text
    person = client.get("/harm/person/84/1A")
    assert person.status_code == 200
    assert "Robert Johnson" in person.text
    assert "exact name dob" in person.text
    token = csrf_from(person.text)
    made = client.post(
        "/harm/reviews",
        data={
            "person_id": "84/1A",
            "tactic": "support",
            "actions": "IDVA referral",
            "owner": "Amy Clarke",
            "agency": "victim_service",
            "review_date": "2025-01-10",
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert made.status_code == 200
    assert "IDVA referral" in made.text
    assert client.get("/api/harm/matrix").json()["rows"][0]["person_id"] == "84/1A"


def test_links_to_a_perpetrator_keep_the_slash_of_his_police_id_inside_one_path_segment(
    client: TestClient, container: Container
) -> None:
    _seed_run(container)
    _user(container, "analyst1", Role.ANALYST)
    log_in(client, "analyst1", PASSWORD)
    matrix = client.get("/harm").text
    assert 'href="/harm/person/84%2F1A"' in matrix
    assert 'href="/harm/person/84/1A"' not in matrix
    person = client.get("/harm/person/84%2F1A")
    assert person.status_code == 200
    assert "Perpetrator 84/1A" in person.text


@pytest.mark.parametrize(
    "role",
    [Role.POLICE, Role.MONITORING_OPERATOR, Role.ADMIN, Role.AUDITOR, Role.PROBATION_OFFICER],
)
def test_other_roles_are_refused_the_matrix(
    client: TestClient, container: Container, role: Role
) -> None:
    _seed_run(container)
    _user(container, "someone", role)
    log_in(client, "someone", PASSWORD)
    for path in ("/harm", "/harm/person/84/1A", "/harm/reviews", "/harm/import"):
        response = client.get(path, headers={"accept": "text/html"})
        assert response.status_code == 403, path
        assert "84/1A" not in response.text
    assert client.get("/api/harm/matrix").status_code == 403
    assert "Perpetrator matrix" not in client.get("/").text


def test_upload_page_reports_bad_rows(client: TestClient, container: Container) -> None:
    _user(container, "analyst1", Role.ANALYST)
    log_in(client, "analyst1", PASSWORD)
    token = csrf_from(client.get("/harm/import").text)
    bad = GOOD[0].replace("2024-12-01T20:00:00Z", "yesterday")
    response = client.post(
        "/harm/import",
        data={"csrf_token": token},
        files={"file": ("incidents.csv", csv(bad, GOOD[3]), "text/csv")},
    )
    assert response.status_code == 200
    assert "2 rows: 1 added, 0 unchanged, 1 rejected" in response.text
    assert "occurred_at" in response.text


def test_the_person_page_shows_his_incidents_why_he_is_ranked_and_the_way_back(
    client: TestClient, container: Container
) -> None:
    _seed_run(container)
    _user(container, "analyst1", Role.ANALYST)
    log_in(client, "analyst1", PASSWORD)
    matrix = client.get("/harm").text
    assert 'href="/harm/person/84%2F1A">Robert Johnson</a>' in matrix, "named, not by key"
    page = client.get("/harm/person/84%2F1A").text
    assert '<h1 class="govuk-heading-xl">Robert Johnson</h1>' in page
    assert 'href="/harm?run=1" class="govuk-back-link" id="back-to-matrix"' in page
    explanation = client.get("/api/harm/matrix").json()["rows"][0]["explanation"]
    assert "rape" in explanation
    assert f'<dd class="govuk-summary-list__value" id="score-explanation">{explanation}' in page
    incidents = page.split('id="incidents"')[1].split("</table>")[0]
    # Newest first, at local time with the zone; victims numbered, never named.
    assert incidents.index("R1") < incidents.index("R2")
    assert "1 Dec 2024 20:00 GMT" in incidents
    assert "Rape" in incidents
    assert "domestic abuse, sexual" in incidents
    assert "victim 1" in incidents
    assert "Alice Brown" not in incidents


def test_a_tasking_review_names_its_owner_and_agency_checked_at_the_edge(
    client: TestClient, container: Container
) -> None:
    _seed_run(container)
    _user(container, "analyst1", Role.ANALYST)
    log_in(client, "analyst1", PASSWORD)
    token = csrf_from(client.get("/harm/person/84%2F1A").text)
    review = {
        "person_id": "84/1A",
        "tactic": "disruption",
        "actions": "Joint visit; DVPN considered",
        "review_date": "2025-01-10",
        "csrf_token": token,
    }
    refused = client.post("/harm/reviews", data={**review, "owner": "  ", "agency": "mi5"})
    assert refused.status_code == 422
    assert 'id="owner-error"' in refused.text
    assert "Owner: name who will carry out the actions" in refused.text
    assert 'id="agency-error"' in refused.text
    assert "Agency: &#39;mi5&#39; is not an agency here; one of police (Police)" in refused.text
    assert "Joint visit; DVPN considered</textarea>" in refused.text, "what was typed is kept"
    too_long = client.post("/harm/reviews", data={**review, "owner": "x" * 121, "agency": ""})
    assert too_long.status_code == 422
    assert "Owner: is longer than 120 characters" in too_long.text
    assert "Agency: choose the agency that owns the actions" in too_long.text

    made = client.post(
        "/harm/reviews",
        data={**review, "owner": "DS  Jane Patel", "agency": "police"},
        follow_redirects=True,
    )
    assert made.status_code == 200
    listed = made.text.split('id="reviews"')[1]
    assert 'href="/harm/person/84%2F1A">Robert Johnson</a>' in listed
    assert 'DS Jane Patel<br><span class="govuk-body-s">Police</span>' in listed
    person = client.get("/harm/person/84%2F1A").text
    assert "DS Jane Patel" in person.split('id="reviews"')[1]
