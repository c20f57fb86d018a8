"""Finished contact cases past their schedule go with everything stored for them, audited; a
case with a bar in force stays whatever its age (the bar protects someone now), and so does one
whose bar was lifted lately."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.contact.helpers import bearer, case_id_for, load_register, submit, tokens
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.contact.case_retention import purge_before
from vigil.contact.tables import (
    contact_attempts,
    contact_bar_items,
    contact_cases,
    contact_protected_people,
)
from vigil.security.tables import audit_log


def _barred_case(client: TestClient, token: str, number: str) -> tuple[int, int]:
    case_id = case_id_for(client, token, submit(client))
    answer = client.post(
        f"/api/contact/cases/{case_id}/bars",
        json={
            "scope": "prisoner",
            "prison_number": "A1234BC",
            "numbers": [number],
            "reason": "Victim frightened by nightly calls",
        },
        headers=bearer(token),
    )
    assert answer.status_code == 201, answer.text
    return case_id, int(answer.json()["bar_id"])


def _lift(client: TestClient, token: str, bar_id: int) -> None:
    answer = client.post(
        f"/api/contact/bars/{bar_id}/lift",
        json={"reason": "Victim asked for contact to resume"},
        headers=bearer(token),
    )
    assert answer.status_code == 200, answer.text


def test_finished_cases_go_and_cases_with_a_bar_in_force_stay(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    load_register(container)
    keys = tokens(container)
    start = clock.now()
    lifted, lifted_bar = _barred_case(client, keys["handler"], "07700 900111")
    in_force, _bar = _barred_case(client, keys["handler"], "07700 900222")
    lifted_late, late_bar = _barred_case(client, keys["handler"], "07700 900333")
    refused = client.post(
        "/api/contact/call-check",
        json={"prison_number": "A1234BC", "number": "07700 900111"},
        headers=bearer(keys["prison"]),
    )
    assert refused.json()["allowed"] is False
    _lift(client, keys["handler"], lifted_bar)
    clock.set(start + timedelta(days=3000))
    _lift(client, tokens(container)["handler"], late_bar)  # a new session: years have passed

    with container.uow() as uow:
        deleted = purge_before(uow, start + timedelta(days=2000), "system:retention")
        uow.commit()

    assert deleted == 1
    with container.engine.connect() as conn:
        kept = set(conn.execute(select(contact_cases.c.id)).scalars())
        leftovers = [
            conn.execute(select(func.count()).where(table.c.case_id == lifted)).scalar_one()
            for table in (contact_protected_people, contact_bar_items, contact_attempts)
        ]
        audited = conn.execute(
            select(func.count()).where(audit_log.c.action == "contact_cases.retention")
        ).scalar_one()
    assert lifted not in kept
    assert {in_force, lifted_late} <= kept
    assert leftovers == [0, 0, 0]
    assert audited == 1
