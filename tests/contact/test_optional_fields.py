"""GOV.UK style: a field the public form accepts blank says "(optional)" in its label, and a field
it requires does not. Each field is left blank in turn on a page otherwise answered in full, and
what the page does with it must agree with its label."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.contact.helpers import post_form

Answers = dict[str, str | list[str]]


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The form's pages only render and validate; storage runs on both backends in test_api."""
    path = tmp_path / "vigil.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


# Each page, answered in full; each field is then left blank in turn ("dob" is the date's parts).
FULL: dict[str, Answers] = {
    "/contact/your-details": {
        "requester_name": "Sam Doe",
        "requester_email": "sam@example.com",
        "requester_phone": "07700 900123",
    },
    "/contact/safe-contact": {"safe_contact": "Text only after 6pm"},
    "/contact/person/0": {"name": "Jane Doe", "phones": "07700 900123", "emails": "j@example.com"},
    "/contact/person/0/address": {
        "line1": "14 High Street",
        "line2": "Northfield",
        "town": "Birmingham",
        "postcode": "B1 1AA",
        "other_addresses": "4 Mill Lane, Leeds, LS1 4AB",
    },
    "/contact/prisoner": {
        "prisoner_name": "Jon Smyth",
        "dob_day": "7",
        "dob_month": "3",
        "dob_year": "1985",
        "prison_number": "A1234BC",
        "prison": "HMP Birmingham",
    },
    "/contact/contact-so-far": {"kinds": ["calls"], "dates": "since March", "details": "Calls."},
    "/contact/report": {
        "kind": "illicit_phone",
        "prison_number": "A1234BC",
        "phone": "07700 900999",
        "details": "He rang me from a mobile.",
    },
}

# One of each pair is needed, so neither is optional alone: both blank is refused (checked below).
ONE_OF = {
    ("/contact/your-details", "requester_email"): "requester_phone",
    ("/contact/your-details", "requester_phone"): "requester_email",
    ("/contact/person/0", "phones"): "emails",
    ("/contact/prisoner", "prisoner_name"): "prison_number",
}

FIELDS = [
    (path, name)
    for path, answers in FULL.items()
    for name in dict.fromkeys(re.sub(r"_(day|month|year)$", "", k) for k in answers)
]


def _label(page: str, name: str) -> str:
    """The field's label, or its fieldset's legend (dates, radios, checkboxes)."""
    field_id = re.escape(name.replace(".", "-"))
    found = re.search(rf'<label[^>]*for="{field_id}"[^>]*>(.*?)</label>', page, re.S)
    inside_fieldset = re.search(
        rf'<legend[^>]*>(.*?)</legend>(?:(?!</fieldset>).)*id="{field_id}"', page, re.S
    )
    if inside_fieldset:
        found = inside_fieldset
    assert found, f"{name} has no label"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def _blank(answers: Answers, name: str) -> Answers:
    return {k: v for k, v in answers.items() if k != name and not k.startswith(f"{name}_")}


def _ready(client: TestClient, path: str) -> None:
    client.get("/contact")
    if path == "/contact/person/0/address":
        post_form(client, "/contact/person/0", {"name": "Jane Doe", "phones": "07700 900123"})


def _accepted(client: TestClient, path: str, answers: Answers) -> bool:
    response = post_form(client, path, answers)
    assert response.status_code in (200, 303, 400), response.text
    # A question page moves on (303); the report page answers in place (200 with its thanks).
    return response.status_code in (200, 303)


@pytest.mark.parametrize(("path", "name"), FIELDS)
def test_a_field_says_optional_exactly_when_it_may_be_left_blank(
    client: TestClient, path: str, name: str
) -> None:
    _ready(client, path)
    label = _label(client.get(path).text, name)
    accepted = _accepted(client, path, _blank(FULL[path], name))
    if (path, name) in ONE_OF:
        assert accepted
        assert not label.endswith("(optional)"), label
        return
    assert label.endswith("(optional)") == accepted, (label, "accepted blank" if accepted else "")


@pytest.mark.parametrize(("path", "name"), list(ONE_OF))
def test_a_pair_of_which_one_is_needed_is_refused_when_both_are_blank(
    client: TestClient, path: str, name: str
) -> None:
    _ready(client, path)
    both_blank = _blank(_blank(FULL[path], name), ONE_OF[(path, name)])
    if path == "/contact/person/0":
        # A person may be reached by post alone; with no address either, the next page refuses.
        assert _accepted(client, path, both_blank)
        refused = post_form(client, "/contact/person/0/address", {"line1": "", "postcode": ""})
        assert refused.status_code == 400
        assert "Enter an address, or go back and give a phone number or email" in refused.text
        return
    assert not _accepted(client, path, both_blank)


def test_every_page_answered_in_full_is_accepted(client: TestClient) -> None:
    """So a blank field refused above was refused for being blank, not for another answer."""
    for path, answers in FULL.items():
        _ready(client, path)
        assert _accepted(client, path, answers), path
