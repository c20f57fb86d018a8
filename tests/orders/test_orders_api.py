"""Orders through the JSON API on SQLite and PostgreSQL; the monitoring plan for the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import START
from tests.people.registry import as_user, build_registry, order_body, person_body
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.orders.plan_for_engine import monitoring_plan_json

VICTIM = {"full_name": "Sarah Price", "relationship": "former_partner", "address": "27 Marsh Lane"}


def _person(client: TestClient, headers: dict[str, str], team: int, **overrides: Any) -> int:
    response = client.post("/api/persons", json=person_body(team, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_officer_creates_an_order_and_reads_it_back(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    person_id = _person(client, headers, registry.birmingham)
    body = order_body(person_id, responsible_officer_id=registry.officer_id)
    created = client.post("/api/orders", json=body, headers=headers)
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "active"  # the frozen clock is inside the order's dates
    assert [c["type"] for c in order["conditions"]] == ["curfew", "exclusion_zone", "trail"]
    assert order["conditions"][0]["timetable"][0]["end"] == "07:00"
    assert client.get(f"/api/orders/{order['id']}").json() == order
    assert [o["id"] for o in client.get(f"/api/orders?person_id={person_id}").json()] == [
        order["id"]
    ]
    versions = client.get(f"/api/orders/{order['id']}/versions").json()
    assert [v["kind"] for v in versions] == ["request"]


def test_bad_order_names_each_field_and_stores_nothing(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    person_id = _person(client, headers, registry.birmingham)
    body = order_body(person_id, ends_at="2026-10-01T00:00:00+00:00")
    body["conditions"][1]["radius_m"] = 5
    response = client.post("/api/orders", json=body, headers=headers)
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["detail"]}
    assert fields == {"ends_at", "conditions[1].radius_m"}
    assert client.get("/api/orders").json() == []


def test_officer_cannot_order_for_a_person_outside_the_caseload(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "notts")
    other = _person(client, headers, registry.nottingham, force_area="NOT", crn="N111111")
    order = client.post("/api/orders", json=order_body(other), headers=headers).json()
    headers = as_user(client, "officer")
    refused = client.post("/api/orders", json=order_body(other), headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "person_id"
    assert client.get(f"/api/orders/{order['id']}").status_code == 404
    assert client.get(f"/api/orders/{order['id']}/versions").status_code == 404


def test_variation_keeps_unchanged_conditions_and_revocation_closes_the_order(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    person_id = _person(client, headers, registry.birmingham)
    order = client.post("/api/orders", json=order_body(person_id), headers=headers).json()
    curfew, zone, trail = order["conditions"]

    wider = dict(zone, radius_m=800)
    del wider["id"]
    kept_curfew = {k: v for k, v in curfew.items() if k != "id"}
    clock.advance(timedelta(hours=1))
    varied = client.post(
        f"/api/orders/{order['id']}/versions",
        json={
            "kind": "variation",
            "effective_at": clock.now().isoformat(),
            "reason": "Victim moved; the zone is widened",
            "conditions": [kept_curfew, wider],
        },
        headers=headers,
    )
    assert varied.status_code == 201, varied.text
    after = varied.json()["order"]
    assert after["version"] == 2
    ids = {c["type"]: c["id"] for c in after["conditions"]}
    assert ids["curfew"] == curfew["id"]  # unchanged: same identity for the engine
    assert ids["exclusion_zone"] != zone["id"]
    assert "trail" not in ids

    # The plan before the variation still has the old zone; after it the new one.
    with container.uow() as uow:
        before = monitoring_plan_json(uow, START + timedelta(minutes=30))
        later = monitoring_plan_json(uow, clock.now() + timedelta(minutes=1))
    assert {c["id"] for c in before["persons"][0]["conditions"]} == {
        str(curfew["id"]),
        str(zone["id"]),
        str(trail["id"]),
    }
    assert {c["id"] for c in later["persons"][0]["conditions"]} == {
        str(ids["curfew"]),
        str(ids["exclusion_zone"]),
    }

    no_reason = client.post(
        f"/api/orders/{order['id']}/versions",
        json={"kind": "revocation", "effective_at": clock.now().isoformat(), "reason": " "},
        headers=headers,
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"][0]["field"] == "reason"
    revoked = client.post(
        f"/api/orders/{order['id']}/versions",
        json={
            "kind": "revocation",
            "effective_at": clock.now().isoformat(),
            "reason": "Recalled to prison",
        },
        headers=headers,
    )
    assert revoked.status_code == 201, revoked.text
    assert revoked.json()["order"]["status"] == "revoked"
    assert revoked.json()["order"]["conditions"] == []
    with container.uow() as uow:
        assert monitoring_plan_json(uow, clock.now() + timedelta(minutes=1))["persons"] == []
    again = client.post(
        f"/api/orders/{order['id']}/versions",
        json={"kind": "end_of_monitoring", "effective_at": clock.now().isoformat(), "reason": "x"},
        headers=headers,
    )
    assert again.status_code == 422


def test_monitoring_plan_has_the_replay_scenario_shape(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    person_id = _person(client, headers, registry.birmingham)
    victim = client.post(
        f"/api/persons/{person_id}/protected-persons", json=VICTIM, headers=headers
    ).json()
    body = order_body(person_id)
    body["conditions"].append(
        {"type": "proximity", "protected_person_id": victim["id"], "distance_m": 500}
    )
    order = client.post("/api/orders", json=body, headers=headers)
    assert order.status_code == 201, order.text

    admin = as_user(client, "operator")
    tag = client.post(
        "/api/devices", json={"external_id": "356938035643809", "type": "gps_tag"}, headers=admin
    ).json()
    phone = client.post(
        "/api/devices",
        json={"external_id": "VP-0001", "type": "protected_person_phone"},
        headers=admin,
    ).json()
    fitted = (START - timedelta(hours=2)).isoformat()
    for device, kind, holder in (
        (tag, "person", person_id),
        (phone, "protected_person", victim["id"]),
    ):
        response = client.post(
            f"/api/devices/{device['id']}/allocations",
            json={"holder_kind": kind, "holder_id": holder, "fitted_at": fitted},
            headers=admin,
        )
        assert response.status_code == 201, response.text

    plan = client.get("/api/monitoring-plan").json()
    assert plan["timezone"] == "Europe/London"
    (person,) = plan["persons"]
    assert person["id"] == str(person_id)
    assert person["devices"] == ["356938035643809"]
    by_type = {c["type"]: c for c in person["conditions"]}
    assert all(isinstance(c["id"], str) for c in person["conditions"])
    assert by_type["curfew"]["geometry"] == {"type": "Point", "coordinates": [-1.8904, 52.4862]}
    assert by_type["curfew"]["radius_m"] == 60
    assert by_type["curfew"]["grace_s"] == 300
    assert by_type["curfew"]["timetable"] == [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "19:00",
            "end": "07:00",
        }
    ]
    assert by_type["exclusion_zone"]["buffer_m"] == 250
    assert by_type["proximity"]["device"] == "VP-0001"
    assert by_type["proximity"]["distance_m"] == 500
    with container.uow() as uow:
        assert monitoring_plan_json(uow, clock.now()) == {k: v for k, v in plan.items()}
        # Before the order starts nobody is monitored.
        assert monitoring_plan_json(uow, datetime(2026, 10, 1, tzinfo=UTC))["persons"] == []


def test_eligibility_decision_is_recorded_with_reasons(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    person_id = _person(client, headers, registry.birmingham, risk_level="medium")
    missing_note = client.post(
        "/api/eligibility",
        json={
            "person_id": person_id,
            "domestic_abuse_sentence": True,
            "accommodation_viable": True,
            "proportionality_note": "",
        },
        headers=headers,
    )
    assert missing_note.status_code == 422
    assert missing_note.json()["detail"][0]["field"] == "proportionality_note"
    decided = client.post(
        "/api/eligibility",
        json={
            "person_id": person_id,
            "domestic_abuse_sentence": True,
            "accommodation_viable": True,
            "proportionality_note": "Stalking of a former partner after release; zone needed.",
        },
        headers=headers,
    )
    assert decided.status_code == 201, decided.text
    decision = decided.json()
    assert decision["eligible"] is False
    assert decision["region_code"] == "WM"
    failed = [o for o in decision["outcomes"] if not o["passed"]]
    assert [o["rule"] for o in failed] == ["high_risk_of_serious_harm"]
    listed = client.get(f"/api/eligibility?person_id={person_id}").json()
    assert [d["id"] for d in listed] == [decision["id"]]


def test_pilot_capacity_counts_persons_monitored_in_the_region(
    client: TestClient, container: Container
) -> None:
    container.settings.pilot_region_capacity = 1
    registry = build_registry(container)
    headers = as_user(client, "officer")
    first = _person(client, headers, registry.birmingham)
    second = _person(client, headers, registry.birmingham, crn="B222222", pnc_id=None)
    assert client.post("/api/orders", json=order_body(first), headers=headers).status_code == 201
    decision = client.post(
        "/api/eligibility",
        json={
            "person_id": second,
            "domestic_abuse_sentence": True,
            "accommodation_viable": True,
            "proportionality_note": "Repeat abuse against a former partner; proportionate.",
        },
        headers=headers,
    ).json()
    capacity = next(o for o in decision["outcomes"] if o["rule"] == "pilot_capacity")
    assert capacity == {
        "rule": "pilot_capacity",
        "passed": False,
        "reason": "1 of 1 pilot places in use",
    }
