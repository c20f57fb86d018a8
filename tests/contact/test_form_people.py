"""The people to protect on the public form: the "You have added" list, each person changed or
removed there, with plain links and posted forms (no JavaScript needed)."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.contact.helpers import post_form


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The form's pages only render and validate; storage runs on both backends in test_api."""
    path = tmp_path / "vigil.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _add(client: TestClient, index: int, name: str, phones: str, address: str = "") -> None:
    person = post_form(client, f"/contact/person/{index}", {"name": name, "phones": phones})
    assert person.status_code == 303, person.text
    found = post_form(
        client,
        f"/contact/person/{index}/address",
        {
            "line1": address,
            "town": "Leeds" if address else "",
            "postcode": "LS1 4AB" if address else "",
        },
    )
    assert found.status_code == 303, found.text
    assert found.headers["location"] == "/contact/another-person"


def _added(page: str) -> list[tuple[str, str]]:
    """Each listed person's name and what was given for them."""
    rows = re.findall(
        r'summary-list__key">([^<]*)</dt>\s*<dd class="govuk-summary-list__value">([^<]*)</dd>',
        page,
    )
    return [(html.unescape(k), html.unescape(v)) for k, v in rows]


def _two_people(client: TestClient) -> None:
    client.get("/contact")
    _add(client, 0, "Jane Doe", "07700 900123\n0121 496 0123", "4 Mill Lane")
    _add(client, 1, "Amy Doe", "+44 7700 900456")


def test_the_list_names_each_person_added_with_change_and_remove(client: TestClient) -> None:
    _two_people(client)
    page = client.get("/contact/another-person").text
    assert '<h1 class="govuk-heading-l">You have added 2 people</h1>' in page
    assert _added(page) == [
        ("Jane Doe", "2 phone numbers, 1 address"),
        ("Amy Doe", "1 phone number"),
    ]
    hidden = '<span class="govuk-visually-hidden">'
    for index, name in enumerate(["Jane Doe", "Amy Doe"]):
        assert f'href="/contact/person/{index}">Change{hidden} {name}' in page
        assert f'href="/contact/person/{index}/remove">Remove{hidden} {name}' in page
    assert "Do you need to add another person?" in page
    assert '<a href="/contact/person/1/address" class="govuk-back-link">Back</a>' in page


def test_one_person_is_one_person_not_one_people(client: TestClient) -> None:
    client.get("/contact")
    _add(client, 0, "Jane Doe", "07700 900123")
    assert "You have added 1 person<" in client.get("/contact/another-person").text


def test_changing_a_person_returns_to_the_list_with_their_new_details(client: TestClient) -> None:
    _two_people(client)
    assert 'value="Amy Doe"' in client.get("/contact/person/1").text  # the answers so far
    _add(client, 1, "Amy Smith", "+44 7700 900456\n07700 900789", "9 Mill Lane")
    assert _added(client.get("/contact/another-person").text)[1] == (
        "Amy Smith",
        "2 phone numbers, 1 address",
    )


def test_removing_asks_first_then_takes_only_that_person_off(client: TestClient) -> None:
    _two_people(client)
    confirm = client.get("/contact/person/0/remove")
    assert "Are you sure you want to remove Jane Doe?" in confirm.text
    kept = post_form(client, "/contact/person/0/remove", {"person": "Jane Doe", "remove": "no"})
    assert kept.headers["location"] == "/contact/another-person"
    assert len(_added(client.get("/contact/another-person").text)) == 2
    gone = post_form(client, "/contact/person/0/remove", {"person": "Jane Doe", "remove": "yes"})
    assert gone.status_code == 303
    assert gone.headers["location"] == "/contact/another-person"
    page = client.get("/contact/another-person").text
    assert "You have added 1 person<" in page
    assert _added(page) == [("Amy Doe", "1 phone number")]
    assert "Jane Doe" not in client.get("/contact/check").text


def test_the_same_removal_posted_twice_removes_one_person(client: TestClient) -> None:
    _two_people(client)
    for _ in range(2):  # a double click, or the browser's "resend"
        post_form(client, "/contact/person/0/remove", {"person": "Jane Doe", "remove": "yes"})
    assert _added(client.get("/contact/another-person").text) == [("Amy Doe", "1 phone number")]


def test_removing_everyone_asks_for_the_first_person_again(client: TestClient) -> None:
    client.get("/contact")
    _add(client, 0, "Jane Doe", "07700 900123")
    gone = post_form(client, "/contact/person/0/remove", {"person": "Jane Doe", "remove": "yes"})
    assert gone.headers["location"] == "/contact/person/0"
    assert "You have not added anyone yet" in client.get("/contact/another-person").text


def test_a_removal_without_an_answer_names_the_field(client: TestClient) -> None:
    _two_people(client)
    response = post_form(client, "/contact/person/1/remove", {"person": "Amy Doe"})
    assert response.status_code == 400
    assert 'href="#remove"' in response.text
    assert 'id="remove-error"' in response.text
    assert len(_added(client.get("/contact/another-person").text)) == 2


@pytest.mark.parametrize("path", ["/contact/person/5/remove", "/contact/person/-1/remove"])
def test_removing_someone_not_on_the_list_goes_back_to_it(client: TestClient, path: str) -> None:
    _two_people(client)
    assert client.get(path, follow_redirects=False).headers["location"] == "/contact/another-person"
    response = post_form(client, path, {"person": "Jane Doe", "remove": "yes"})
    assert response.headers["location"] == "/contact/another-person"
    assert len(_added(client.get("/contact/another-person").text)) == 2


def test_a_removal_without_the_csrf_token_is_refused(client: TestClient) -> None:
    _two_people(client)
    client.get("/contact/person/0/remove")
    response = client.post("/contact/person/0/remove", data={"person": "Jane Doe", "remove": "yes"})
    assert response.status_code == 403
    assert len(_added(client.get("/contact/another-person").text)) == 2
