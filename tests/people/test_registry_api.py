"""People through the JSON API on SQLite and PostgreSQL: CRUD, caseload scope, protected details."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.people.registry import as_user, build_registry, person_body
from vigil.bootstrap import Container
from vigil.people import prison_register
from vigil.people.tables import protected_persons
from vigil.security import audit
from vigil.security.tables import audit_log

VICTIM = {
    "full_name": "Sarah Price",
    "relationship": "former_partner",
    "address": "27 Marsh Lane, Erdington, Birmingham B23 6NY",
    "phone": "0121 496 0123",
    "email": "sarah.price@example.org",
}


def test_officer_registers_reads_and_updates_a_person(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    created = client.post("/api/persons", json=person_body(registry.birmingham), headers=headers)
    assert created.status_code == 201, created.text
    person = created.json()
    assert person["crn"] == "B123456"
    assert person["region_code"] == "WM"
    assert person["team_name"] == "Birmingham North"

    listed = client.get("/api/persons").json()
    assert [p["id"] for p in listed] == [person["id"]]

    changed = client.put(
        f"/api/persons/{person['id']}",
        json=person_body(registry.birmingham, risk_level="very_high"),
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert client.get(f"/api/persons/{person['id']}").json()["risk_level"] == "very_high"
    with container.engine.connect() as conn:
        actions = list(conn.execute(select(audit_log.c.action)).scalars())
        assert audit.verify(conn).intact
    assert {"person.create", "person.update"} <= set(actions)


def test_bad_person_body_names_each_field_and_stores_nothing(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    response = client.post(
        "/api/persons",
        json=person_body(registry.birmingham, crn="12", date_of_birth="2090-01-01"),
        headers=headers,
    )
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["detail"]}
    assert fields == {"crn", "date_of_birth"}
    assert client.get("/api/persons").json() == []


def test_duplicate_crn_is_refused(client: TestClient, container: Container) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    assert client.post("/api/persons", json=person_body(registry.birmingham), headers=headers)
    again = client.post(
        "/api/persons", json=person_body(registry.birmingham, pnc_id=None), headers=headers
    )
    assert again.status_code == 422
    assert again.json()["detail"][0]["field"] == "crn"


def test_officer_cannot_read_a_person_outside_their_caseload(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "notts")
    nottingham_person = client.post(
        "/api/persons",
        json=person_body(registry.nottingham, force_area="NOT", crn="N654321", pnc_id=None),
        headers=headers,
    ).json()

    as_user(client, "officer")
    for path in (
        f"/api/persons/{nottingham_person['id']}",
        f"/api/persons/{nottingham_person['id']}/protected-persons",
        "/api/persons/999999",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
    assert client.get("/api/persons").json() == []


def test_probation_officer_cannot_register_for_another_team(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    response = client.post("/api/persons", json=person_body(registry.nottingham), headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "managing_team_id"


def test_police_see_their_force_area_only(client: TestClient, container: Container) -> None:
    registry = build_registry(container)
    headers = as_user(client, "notts")
    client.post(
        "/api/persons",
        json=person_body(registry.nottingham, force_area="NOT", crn="N654321", pnc_id=None),
        headers=headers,
    )
    headers = as_user(client, "officer")
    wmp = client.post("/api/persons", json=person_body(registry.birmingham), headers=headers)
    as_user(client, "police.wmp")
    assert [p["id"] for p in client.get("/api/persons").json()] == [wmp.json()["id"]]


def test_roles_outside_the_registry_are_refused(client: TestClient, container: Container) -> None:
    build_registry(container)
    as_user(client, "analyst")
    assert client.get("/api/persons").status_code == 403


def test_protected_person_details_only_for_roles_that_need_them_and_every_view_audited(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    person = client.post(
        "/api/persons", json=person_body(registry.birmingham), headers=headers
    ).json()
    added = client.post(
        f"/api/persons/{person['id']}/protected-persons", json=VICTIM, headers=headers
    )
    assert added.status_code == 201, added.text

    seen = client.get(f"/api/persons/{person['id']}/protected-persons").json()
    assert seen[0]["address"] == VICTIM["address"]
    assert seen[0]["phone"] == "+441214960123"
    assert seen[0]["details_withheld"] is False

    as_user(client, "admin")
    withheld = client.get(f"/api/protected-persons/{added.json()['id']}").json()
    assert withheld["details_withheld"] is True
    assert withheld["full_name"] is None
    assert withheld["address"] is None

    with container.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.action, audit_log.c.actor, audit_log.c.detail).where(
                audit_log.c.subject_type == "protected_person"
            )
        ).all()
    actions = [(r.action, r.actor.split(":")[2]) for r in rows]
    assert ("protected_person.view", "officer") in actions
    assert ("protected_person.view_withheld", "admin") in actions
    assert all("Marsh Lane" not in r.detail and "Sarah" not in r.detail for r in rows)


def test_protected_persons_details_are_not_stored_in_plaintext(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    person = client.post(
        "/api/persons", json=person_body(registry.birmingham), headers=headers
    ).json()
    client.post(f"/api/persons/{person['id']}/protected-persons", json=VICTIM, headers=headers)
    with container.engine.connect() as conn:
        stored = conn.execute(select(protected_persons)).one()
    assert stored.address_enc.startswith("enc1:")
    assert (
        container.cipher.decrypt(stored.address_enc, "protected_persons.address")
        == (VICTIM["address"])
    )
    if container.engine.dialect.name == "sqlite":
        container.engine.dispose()  # checkpoint the WAL so the main file holds everything
        path = Path(container.engine.url.database or "")
        raw = path.read_bytes() + (
            path.with_name(path.name + "-wal").read_bytes()
            if path.with_name(path.name + "-wal").exists()
            else b""
        )
        for secret in ("Marsh Lane", "Sarah Price", "sarah.price@example.org", "4960123"):
            assert secret.encode() not in raw, secret
        assert b"Slade Road" in raw  # the wearer's own address is stored, so the read works


def test_prisons_load_from_the_fixtures_with_the_swapped_columns_put_right(
    container: Container,
) -> None:
    with container.uow() as uow:
        report = prison_register.load_prisons(
            uow, prison_register.BUNDLED_PRISON_REGISTER, actor="test"
        )
        again = prison_register.load_prisons(
            uow, prison_register.BUNDLED_PRISON_REGISTER, actor="test"
        )
        found = {p["code"]: p for p in prison_register.list_prisons(uow)}
        uow.commit()
    codes = {
        line.split("\t")[0]
        for line in (prison_register.BUNDLED_PRISON_REGISTER / "prison.tsv").open()
    }
    assert report.prisons == len(codes) - 1 == again.prisons == len(found)  # less the header
    assert report.with_address >= 60
    birmingham = found["BM"]
    assert birmingham["postcode"] == "B18 4AS"
    assert abs(birmingham["lat"] - 52.4925) < 0.001
    assert abs(birmingham["lon"] + 1.9385) < 0.001
    for prison in found.values():
        if prison["lat"] is not None:
            assert 49 < prison["lat"] < 61
            assert -8 < prison["lon"] < 2
