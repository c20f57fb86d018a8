"""No existence leaks, clean downloads, and machine tokens that read nothing about people."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.people.registry import as_user, build_registry, person_body
from vigil.bootstrap import Container
from vigil.evidence.api import attachment, safe_filename
from vigil.security import machine_tokens
from vigil.security.model import Role


def test_another_teams_crn_answers_only_that_it_cannot_be_used(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    notts = as_user(client, "notts")
    made = client.post(
        "/api/persons", json=person_body(registry.nottingham, force_area="NOT"), headers=notts
    )
    assert made.status_code == 201, made.text
    officer = as_user(client, "officer")
    again = client.post("/api/persons", json=person_body(registry.birmingham), headers=officer)
    assert again.status_code == 422
    reasons = {e["field"]: e["reason"] for e in again.json()["detail"]}
    assert reasons["crn"].startswith("cannot be used")
    assert "another person" not in again.text


def test_download_names_carry_no_quotes_or_separators() -> None:
    hostile = 'trail-1"; filename="evil.exe'
    assert safe_filename(hostile) == "trail-1-filename-evil.exe"
    header = attachment(b"x", "text/plain", hostile).headers["content-disposition"]
    assert header.count("filename=") == 1
    assert '"' not in header.split('filename="', 1)[1].rstrip('"')


def test_device_gateway_token_reads_nothing_about_people(
    client: TestClient, container: Container
) -> None:
    """The issue's reads, one by one: all refused now; submitting fixes still works."""
    build_registry(container)
    with container.uow() as uow:
        gateway = machine_tokens.create_token(uow, role=Role.DEVICE_GATEWAY, name="gateway")
        uow.commit()
    with container.uow() as uow:
        prison = machine_tokens.create_token(uow, role=Role.PRISON_SYSTEM, name="phones")
        uow.commit()
    gw = {"authorization": f"Bearer {gateway}"}
    for path in (
        "/api/monitoring-plan",
        "/api/device-holders/353000000000001",
        "/api/officers",
        "/api/teams",
        "/api/prisons",
        "/api/persons",
    ):
        assert client.get(path, headers=gw).status_code == 403, path
    intel = client.post(
        "/api/contact/intelligence",
        json={"kind": "phone", "details": "Staff report", "prison_number": "A1234BC"},
        headers=gw,
    )
    assert intel.status_code == 403
    fixes = client.post("/api/gateways/fixes", json={}, headers=gw)
    assert fixes.status_code != 403
    ps = {"authorization": f"Bearer {prison}"}
    assert client.get("/api/officers", headers=ps).status_code == 403
    assert client.get("/api/contact/barred-numbers", headers=ps).status_code == 200
