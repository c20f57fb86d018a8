"""Devices through the JSON API on SQLite and PostgreSQL: register, fit, remove, resolve."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import START
from tests.people.registry import as_user, build_registry, person_body
from vigil.bootstrap import Container
from vigil.devices.service import person_for_device
from vigil.gateways.directory import KnownDevices

IMEI = "356938035643809"


def _setup(client: TestClient, container: Container) -> tuple[int, dict[str, str]]:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    person = client.post("/api/persons", json=person_body(registry.birmingham), headers=headers)
    return int(person.json()["id"]), as_user(client, "operator")


def test_a_tag_is_fitted_removed_and_resolved_by_time(
    client: TestClient, container: Container
) -> None:
    person_id, headers = _setup(client, container)
    device = client.post(
        "/api/devices",
        json={"external_id": IMEI, "type": "gps_tag", "model": "Buddi"},
        headers=headers,
    )
    assert device.status_code == 201, device.text
    device_id = device.json()["id"]
    fitted = START - timedelta(days=2)
    allocated = client.post(
        f"/api/devices/{device_id}/allocations",
        json={"holder_id": person_id, "fitted_at": fitted.isoformat()},
        headers=headers,
    )
    assert allocated.status_code == 201, allocated.text
    assert client.get(f"/api/devices/{device_id}").json()["status"] == "allocated"

    removed = client.post(
        f"/api/devices/{device_id}/removal",
        json={"removed_at": (START - timedelta(days=1)).isoformat(), "reason": "Strap replaced"},
        headers=headers,
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["status"] == "in_stock"
    history = client.get(f"/api/devices/{device_id}/allocations").json()
    assert len(history) == 1
    assert history[0]["removal_reason"] == "Strap replaced"

    with container.uow() as uow:
        assert person_for_device(uow, IMEI, fitted - timedelta(seconds=1)) is None
        assert person_for_device(uow, IMEI, fitted) == str(person_id)
        assert person_for_device(uow, IMEI, START - timedelta(days=1)) is None
        assert person_for_device(uow, "unknown-device", START) is None


def test_overlapping_allocations_are_refused(client: TestClient, container: Container) -> None:
    person_id, headers = _setup(client, container)
    device_id = client.post(
        "/api/devices", json={"external_id": IMEI, "type": "gps_tag"}, headers=headers
    ).json()["id"]
    first = {"holder_id": person_id, "fitted_at": START.isoformat()}
    assert (
        client.post(
            f"/api/devices/{device_id}/allocations", json=first, headers=headers
        ).status_code
        == 201
    )
    earlier = {"holder_id": person_id, "fitted_at": (START - timedelta(days=3)).isoformat()}
    refused = client.post(f"/api/devices/{device_id}/allocations", json=earlier, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "fitted_at"
    assert len(client.get(f"/api/devices/{device_id}/allocations").json()) == 1


def test_device_rules_name_the_field(client: TestClient, container: Container) -> None:
    person_id, headers = _setup(client, container)
    bad = client.post("/api/devices", json={"external_id": "x", "type": "gps_tag"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "external_id"
    phone = client.post(
        "/api/devices",
        json={"external_id": "VP-1", "type": "protected_person_phone"},
        headers=headers,
    ).json()
    wrong_holder = client.post(
        f"/api/devices/{phone['id']}/allocations",
        json={"holder_kind": "person", "holder_id": person_id, "fitted_at": START.isoformat()},
        headers=headers,
    )
    assert wrong_holder.status_code == 422
    assert wrong_holder.json()["detail"][0]["field"] == "holder_kind"
    duplicate = client.post(
        "/api/devices",
        json={"external_id": "VP-1", "type": "protected_person_phone"},
        headers=headers,
    )
    assert duplicate.status_code == 422


def test_officers_see_only_devices_of_their_caseload(
    client: TestClient, container: Container
) -> None:
    person_id, headers = _setup(client, container)
    worn = client.post(
        "/api/devices", json={"external_id": IMEI, "type": "gps_tag"}, headers=headers
    ).json()
    spare = client.post(
        "/api/devices", json={"external_id": "356938035643817", "type": "gps_tag"}, headers=headers
    ).json()
    client.post(
        f"/api/devices/{worn['id']}/allocations",
        json={"holder_id": person_id, "fitted_at": START.isoformat()},
        headers=headers,
    )
    assert len(client.get("/api/devices").json()) == 2
    as_user(client, "officer")
    assert [d["external_id"] for d in client.get("/api/devices").json()] == [IMEI]
    assert client.get(f"/api/devices/{spare['id']}").status_code == 404
    as_user(client, "notts")
    assert client.get("/api/devices").json() == []
    assert client.get(f"/api/devices/{worn['id']}").status_code == 404
    officer = as_user(client, "officer")
    refused = client.post(
        "/api/devices", json={"external_id": "356938035643825", "type": "gps_tag"}, headers=officer
    )
    assert refused.status_code == 403


def test_a_device_key_is_issued_once_by_the_centre_and_a_new_one_retires_it(
    client: TestClient, container: Container
) -> None:
    _person_id, headers = _setup(client, container)
    device = client.post(
        "/api/devices", json={"external_id": "phone-7", "type": "gps_tag"}, headers=headers
    ).json()
    first = client.post(f"/api/devices/{device['id']}/key", headers=headers)
    assert first.status_code == 201
    second = client.post(f"/api/devices/{device['id']}/key", headers=headers).json()["key"]
    assert len(second) >= 43
    assert second != first.json()["key"]
    with container.uow() as uow:
        known = KnownDevices.load(uow)
    assert known.key_refusal("phone-7", second) is None
    assert known.key_refusal("phone-7", first.json()["key"]) == "bad_device_key"
    assert client.post("/api/devices/999999/key", headers=headers).status_code == 404
    officer = as_user(client, "officer")
    assert client.post(f"/api/devices/{device['id']}/key", headers=officer).status_code == 403
