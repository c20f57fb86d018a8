"""Shared set-up for the contact service tests: tokens, a register, a sample request."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import csrf_from
from tests.staff_sessions import auth_headers, staff_credential
from vigil.bootstrap import Container
from vigil.contact import register
from vigil.security import machine_tokens
from vigil.security.model import Principal, Role

HANDLER = Principal(id=1, name="Morgan Ellis", role=Role.UPCS_CASE_HANDLER)
PRISON = Principal(id=2, name="HMP phones", role=Role.PRISON_SYSTEM, is_machine=True)

REGISTER_CSV = """prison_number,forenames,surname,aliases,date_of_birth,establishment,release_date
A1234BC,Jonathan,Smyth,Jon Smith;Johnny Smyth,1985-03-07,HMP Birmingham,2028-01-31
B2345CD,Jonah,Smart,,1990-01-01,HMP Leeds,
C3456DE,Kevin,Doherty,Kev Docherty,1979-11-23,HMP Altcourse,2027-05-01
D4567EF,Stephen,Clarke,,1985-03-07,HMP Altcourse,
"""


def sample_request(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "requester": {
            "type": "victim_service",
            "name": "Asha Patel",
            "email": "asha@refuge.example.org",
            "phone": "0121 496 0000",
        },
        "consent": "yes",
        "protected_people": [
            {
                "name": "Jane Doe",
                "phones": ["07700 900123", "+44 7700 900456"],
                "addresses": [
                    {"lines": ["Flat 2", "14 High Street", "Birmingham"], "postcode": "b11aa"}
                ],
                "emails": ["jane@example.com"],
            }
        ],
        "prisoner": {
            "name": "Jonathon Smith",
            "date_of_birth": "1985-07-03",
            "prison_number": "",
            "prison": "HMP Birmingham",
        },
        "contact": {"kinds": ["calls", "letters"], "details": "He calls every night."},
    }
    body.update(overrides)
    return body


def tokens(container: Container) -> dict[str, str]:
    """Credentials: a signed-in case handler, the prison phone system's token, and a device
    gateway's token (a machine with the wrong job)."""
    handler = staff_credential(container, Role.UPCS_CASE_HANDLER)
    with container.uow() as uow:
        found = {
            "handler": handler,
            "prison": machine_tokens.create_token(uow, role=Role.PRISON_SYSTEM, name="phones"),
            "gateway": machine_tokens.create_token(uow, role=Role.DEVICE_GATEWAY, name="gw"),
        }
        uow.commit()
    return found


def bearer(credential: str) -> dict[str, str]:
    return auth_headers(credential)


def load_register(container: Container) -> None:
    with container.uow() as uow:
        register.import_prisoners(uow, REGISTER_CSV, actor="test")
        uow.commit()


def submit(client: TestClient, body: dict[str, Any] | None = None) -> str:
    response = client.post("/api/contact/requests", json=body or sample_request())
    assert response.status_code == 201, response.text
    reference: str = response.json()["reference"]
    return reference


def case_id_for(client: TestClient, token: str, reference: str) -> int:
    response = client.get(f"/api/contact/cases?reference={reference}", headers=bearer(token))
    assert response.status_code == 200, response.text
    found: int = response.json()["cases"][0]["id"]
    return found


def post_form(client: TestClient, path: str, data: dict[str, str | list[str]]) -> Response:
    """Post one public form page as a browser would: with the page's CSRF token, no redirects."""
    token = csrf_from(client.get(path).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def walk_to_check(client: TestClient) -> None:
    """Answer every page of the public form up to the check page, as a relative would."""
    client.get("/contact")
    steps: list[tuple[str, dict[str, str | list[str]]]] = [
        ("/contact/who", {"requester_type": "friend_or_family"}),
        ("/contact/consent", {"consent": "not_asked"}),
        (
            "/contact/your-details",
            {
                "requester_name": "Sam Doe",
                "requester_email": "sam@example.com",
                "requester_phone": "",
            },
        ),
        ("/contact/safe-contact", {"safe_contact": "Text only after 6pm"}),
        (
            "/contact/person/0",
            {"name": "Jane Doe", "phones": "07700 900123\n+44 7700 900456", "emails": ""},
        ),
        (
            "/contact/person/0/address",
            {
                "line1": "14 High Street",
                "line2": "",
                "town": "Birmingham",
                "postcode": "b11aa",
                "other_addresses": "",
            },
        ),
        ("/contact/another-person", {"another": "no"}),
        (
            "/contact/prisoner",
            {
                "prisoner_name": "Jon Smyth",
                "dob_day": "7",
                "dob_month": "3",
                "dob_year": "1985",
                "prison_number": "a1234bc",
                "prison": "",
            },
        ),
        ("/contact/contact-so-far", {"kinds": ["calls", "letters"], "dates": "", "details": ""}),
    ]
    for path, data in steps:
        response = post_form(client, path, data)
        assert response.status_code == 303, (path, response.text)
