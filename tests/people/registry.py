"""Shared set-up for registry tests: reference data, two teams, logins for each role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import log_in
from vigil.bootstrap import Container
from vigil.people import reference_data
from vigil.security import service as security
from vigil.security.model import Role

PASSWORD = "correct horse battery staple"
HOME = {"type": "Point", "coordinates": [-1.8904, 52.4862]}
VICTIM_HOME = {"type": "Point", "coordinates": [-1.9100, 52.5050]}


@dataclass(frozen=True)
class Registry:
    birmingham: int
    nottingham: int
    officer_id: int


def build_registry(container: Container) -> Registry:
    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
        birmingham = reference_data.add_team(
            uow, name="Birmingham North", region_code="WM", force_area="WMP", actor="test"
        )
        nottingham = reference_data.add_team(
            uow, name="Nottingham City", region_code="EM", force_area="NOT", actor="test"
        )
        officer_user = security.add_user(
            uow,
            username="officer",
            password=PASSWORD,
            role=Role.PROBATION_OFFICER,
            team_id=birmingham,
        )
        security.add_user(
            uow,
            username="notts",
            password=PASSWORD,
            role=Role.PROBATION_OFFICER,
            team_id=nottingham,
        )
        security.add_user(
            uow, username="police.wmp", password=PASSWORD, role=Role.POLICE, force_area="WMP"
        )
        security.add_user(uow, username="admin", password=PASSWORD, role=Role.ADMIN)
        security.add_user(
            uow, username="operator", password=PASSWORD, role=Role.MONITORING_OPERATOR
        )
        security.add_user(uow, username="analyst", password=PASSWORD, role=Role.ANALYST)
        officer_id = reference_data.add_officer(
            uow, name="Dana Whitfield", team_id=birmingham, user_id=officer_user, actor="test"
        )
        uow.commit()
    return Registry(birmingham, nottingham, officer_id)


def as_user(client: TestClient, username: str) -> dict[str, str]:
    """Log in through the form; the returned header carries the CSRF token for JSON writes."""
    client.cookies.clear()
    return {"x-csrf-token": log_in(client, username, PASSWORD)}


def person_body(team_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "first_name": "Lee",
        "last_name": "Walsh",
        "date_of_birth": "1986-04-12",
        "risk_level": "high",
        "managing_team_id": team_id,
        "force_area": "WMP",
        "crn": "B123456",
        "pnc_id": "2004/0123456K",
        "aliases": ["Lee Walsh-Turner"],
        "home_address": "14 Slade Road, Birmingham B23",
    }
    body.update(overrides)
    return body


def order_body(person_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person_id": person_id,
        "pilot": "da_licence",
        "starts_at": "2026-11-01T00:00:00+00:00",
        "ends_at": "2027-05-01T00:00:00+00:00",
        "conditions": [
            {
                "type": "curfew",
                "geometry": HOME,
                "radius_m": 60,
                "timetable": [
                    {
                        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                        "start": "19:00",
                        "end": "07:00",
                    }
                ],
                "grace_s": 300,
            },
            {"type": "exclusion_zone", "geometry": VICTIM_HOME, "radius_m": 500, "buffer_m": 250},
            {"type": "trail"},
        ],
    }
    body.update(overrides)
    return body
