from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import csrf_from, log_in
from tests.contact.helpers import post_form, walk_to_check
from vigil.bootstrap import Container
from vigil.contact.tables import contact_cases
from vigil.security import service as security_service
from vigil.security.model import Role


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The form's pages only render and validate; storage runs on both backends in test_api."""
    path = tmp_path / "vigil.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def test_the_whole_form_gives_a_reference_and_a_case(
    client: TestClient, container: Container
) -> None:
    walk_to_check(client)
    check = client.get("/contact/check")
    assert "Check your answers" in check.text
    assert "Jane Doe" in check.text
    assert "A1234BC" in check.text
    response = client.post(
        "/contact/check", data={"csrf_token": csrf_from(check.text)}, follow_redirects=True
    )
    assert response.status_code == 200
    reference = re.search(r'id="reference">([^<]+)<', response.text)
    assert reference
    assert "Jane" not in response.text
    assert "07700" not in response.text
    with container.engine.connect() as conn:
        row = conn.execute(select(contact_cases)).one()
    assert row.reference == reference.group(1)
    assert row.requester_type == "friend_or_family"
    assert row.consent == "not_asked"
    assert row.prison_number == "A1234BC"


@pytest.mark.parametrize(
    ("path", "data", "field", "message"),
    [
        ("/contact/who", {}, "requester_type", "Select who is asking"),
        ("/contact/who", {"requester_type": "martian"}, "requester_type", "Select who is asking"),
        ("/contact/consent", {"consent": "perhaps"}, "consent", "Select whether the person knows"),
        (
            "/contact/your-details",
            {"requester_name": "", "requester_email": "sam@example.com"},
            "requester_name",
            "Enter your name",
        ),
        (
            "/contact/your-details",
            {"requester_name": "Sam", "requester_email": "not-an-email"},
            "requester_email",
            "Enter an email address in the correct format",
        ),
        (
            "/contact/your-details",
            {"requester_name": "Sam"},
            "requester_email",
            "Enter an email address or a phone number",
        ),
        (
            "/contact/your-details",
            {"requester_name": "S" * 201, "requester_phone": "07700900123"},
            "requester_name",
            "200 characters or fewer",
        ),
        ("/contact/safe-contact", {"safe_contact": "x" * 501}, "safe_contact", "500 characters"),
        (
            "/contact/person/0",
            {"name": "", "phones": "07700900123"},
            "name",
            "Enter their full name",
        ),
        (
            "/contact/person/0",
            {"name": "Jane", "phones": "07700900123\n12"},
            "phones",
            "Line 2: enter a phone number",
        ),
        (
            "/contact/person/0",
            {"name": "Jane", "emails": "jane@"},
            "emails",
            "Line 1: enter an email address",
        ),
        ("/contact/another-person", {}, "another", "Select yes if you need to add another person"),
        (
            "/contact/prisoner",
            {"prisoner_name": "", "prison_number": ""},
            "prisoner_name",
            "Enter the prisoner's name or prison number",
        ),
        (
            "/contact/prisoner",
            {"prisoner_name": "X", "prison_number": "12345"},
            "prison_number",
            "Enter a prison number like A1234BC",
        ),
        (
            "/contact/prisoner",
            {"prisoner_name": "X", "dob_day": "31", "dob_month": "2", "dob_year": "1985"},
            "dob",
            "must be a real date",
        ),
        (
            "/contact/prisoner",
            {"prisoner_name": "X", "dob_day": "1", "dob_month": "1", "dob_year": "2999"},
            "dob",
            "must be in the past",
        ),
        (
            "/contact/contact-so-far",
            {"details": "x"},
            "kinds",
            "Select how the prisoner has contacted",
        ),
        (
            "/contact/contact-so-far",
            {"kinds": ["calls"], "details": "x" * 5001},
            "details",
            "5000 characters",
        ),
    ],
)
def test_each_page_names_the_field_in_error(
    client: TestClient, path: str, data: dict[str, str], field: str, message: str
) -> None:
    response = post_form(client, path, data)
    assert response.status_code == 400
    assert f'href="#{field}"' in response.text
    assert f'id="{field}-error"' in response.text
    assert message in html.unescape(response.text)


def test_an_address_needs_its_first_line_and_postcode(client: TestClient) -> None:
    post_form(client, "/contact/person/0", {"name": "Jane", "phones": "07700900123"})
    response = post_form(
        client, "/contact/person/0/address", {"line1": "", "town": "Leeds", "postcode": "LS1 1AA"}
    )
    assert response.status_code == 400
    assert 'id="line1-error"' in response.text
    response = post_form(
        client, "/contact/person/0/address", {"line1": "1 Mill Lane", "postcode": "ZZZ"}
    )
    assert 'id="postcode-error"' in response.text


def test_a_page_without_the_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/contact/who")
    response = client.post("/contact/who", data={"requester_type": "victim"})
    assert response.status_code == 403


def test_the_honeypot_field_stops_a_submission(client: TestClient, container: Container) -> None:
    walk_to_check(client)
    check = client.get("/contact/check")
    response = client.post(
        "/contact/check", data={"csrf_token": csrf_from(check.text), "website": "http://spam"}
    )
    assert response.status_code == 400
    with container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(contact_cases)).scalar_one() == 0


def test_an_oversize_form_post_is_refused_with_413(client: TestClient) -> None:
    token = csrf_from(client.get("/contact/who").text)
    response = client.post("/contact/who", data={"csrf_token": token, "x": "y" * 70_000})
    assert response.status_code == 413


def test_check_page_lists_what_is_missing(client: TestClient) -> None:
    post_form(client, "/contact/who", {"requester_type": "victim"})
    check = client.get("/contact/check")
    response = client.post("/contact/check", data={"csrf_token": csrf_from(check.text)})
    assert response.status_code == 400
    assert "Add at least one person to protect" in response.text
    assert 'href="/contact/person/0"' in response.text


def test_case_handler_pages_mask_lists_and_audit_views(
    client: TestClient, container: Container
) -> None:
    from vigil.security.tables import audit_log

    walk_to_check(client)
    check = client.get("/contact/check")
    client.post("/contact/check", data={"csrf_token": csrf_from(check.text)})
    with container.uow() as uow:
        security_service.add_user(
            uow, username="ch", password="correct horse battery", role=Role.UPCS_CASE_HANDLER
        )
        uow.commit()
    client.cookies.clear()
    token = log_in(client, "ch", "correct horse battery")
    queue = client.get("/contact/cases")
    assert queue.status_code == 200
    assert "J••• D•••" in queue.text
    assert "Jane" not in queue.text
    case_id = int(re.search(r'href="/contact/cases/(\d+)"', queue.text).group(1))  # type: ignore[union-attr]
    page = client.get(f"/contact/cases/{case_id}")
    assert "Jane Doe" in page.text
    assert "+447700900123" in page.text
    response = client.post(
        f"/contact/cases/{case_id}/bar", data={"csrf_token": token, "scope": "estate", "reason": ""}
    )
    assert response.status_code == 400
    assert 'id="reason-error"' in response.text
    response = client.post(
        f"/contact/cases/{case_id}/bar",
        data={"csrf_token": token, "scope": "estate", "reason": "Threats"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "Bar 1: every prisoner" in client.get(f"/contact/cases/{case_id}").text
    with container.engine.connect() as conn:
        viewed = conn.execute(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.action == "contact.case.viewed")
        ).scalar_one()
    assert viewed == 3
    stats = client.get("/contact/statistics.csv")
    assert stats.status_code == 200
    assert "active bars,1" in stats.text


def test_public_can_report_intelligence_to_the_security_queue(
    client: TestClient, container: Container
) -> None:
    response = post_form(
        client,
        "/contact/report",
        {
            "kind": "illicit_phone",
            "prison_number": "A1234BC",
            "phone": "07700 900999",
            "details": "",
        },
    )
    assert response.status_code == 400
    assert 'id="details-error"' in response.text
    response = post_form(
        client,
        "/contact/report",
        {
            "kind": "illicit_phone",
            "prison_number": "A1234BC",
            "phone": "07700 900999",
            "details": "He rang me from a mobile.",
        },
    )
    assert response.status_code == 200
    assert "Report sent" in response.text


def test_every_public_page_has_the_quick_exit_button_and_the_public_footer(
    client: TestClient,
) -> None:
    walk_to_check(client)
    for path in (
        "/contact",
        "/contact/who",
        "/contact/person/0",
        "/contact/check",
        "/contact/report",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'data-module="govuk-exit-this-page"' in page.text, path
        assert "Exit this page" in page.text, path
        assert 'data-testid="public-footer"' in page.text, path
        assert "0808 2000 247" in page.text, path  # the national helpline, on every page
        assert "Every view of a protected person" not in page.text, path  # not the staff footer
    start = client.get("/contact").text
    assert "clear your browsing history" in start
