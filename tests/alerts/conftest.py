"""Alerts fixtures: a real registry seeded through its own services, alert settings pointing at
local receivers, and helpers to build engine events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.demo_pilot import demo, demo_client, demo_template  # noqa: F401  (fixtures)
from tests.staff_sessions import staff_credential
from vigil.alerts import raising
from vigil.alerts.config import AlertSettings
from vigil.alerts.model import AlertChange
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.engine.events import EngineEvent, EventKind, EventPhase
from vigil.orders import service as orders
from vigil.orders.model import OrderDraft
from vigil.people import protected_details, reference_data
from vigil.people import service as people
from vigil.people.model import PersonDraft, ProtectedPersonDraft
from vigil.security import machine_tokens
from vigil.security import service as security
from vigil.security.model import MACHINE_ROLES, SYSTEM, Principal, Role

OFFICER_EMAIL = "officer.one@probation.example"
OTHER_OFFICER_EMAIL = "officer.two@probation.example"
DUTY_EMAIL = "duty@probation.example"
DUTY_PHONE = "07400123457"
CENTRE_EMAIL = "centre@monitoring.example"
VICTIM_PHONE = "07400123456"


@dataclass
class Registry:
    """Ids of what the registry seed created."""

    team_id: int
    other_team_id: int
    officer_id: int
    high_risk_person: str
    low_risk_person: str
    other_team_person: str
    protected_person: str
    operator: Principal
    officer: Principal
    other_officer: Principal
    police: Principal
    other_police: Principal
    analyst: Principal


def seed_registry(container: Container) -> Registry:
    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
        team = reference_data.add_team(
            uow, name="Birmingham North", region_code="WM", force_area="WMP", actor="test"
        )
        other = reference_data.add_team(
            uow, name="Nottingham City", region_code="EM", force_area="NOT", actor="test"
        )
        officer_id = reference_data.add_officer(
            uow, name="Officer One", team_id=team, actor="test", email=OFFICER_EMAIL
        )
        reference_data.add_officer(
            uow, name="Officer Two", team_id=other, actor="test", email=OTHER_OFFICER_EMAIL
        )

        def person(first: str, risk: str, team_id: int, force: str, crn: str) -> int:
            return people.create_person(
                uow,
                SYSTEM,
                PersonDraft(
                    first_name=first,
                    last_name="Example",
                    date_of_birth=date(1985, 3, 1),
                    managing_team_id=team_id,
                    force_area=force,
                    risk_level=risk,
                    crn=crn,
                ),
            )

        high = person("Adam", "very_high", team, "WMP", "A123456")
        low = person("Brian", "low", team, "WMP", "B123456")
        elsewhere = person("Carl", "high", other, "NOT", "C123456")
        operator_principal = Principal(id=90, name="op", role=Role.MONITORING_OPERATOR)
        now = container.clock.now()
        for pid in (high, low):
            orders.create_order(
                uow,
                SYSTEM,
                OrderDraft(
                    person_id=pid,
                    pilot="da_licence",
                    starts_at=now - timedelta(days=30),
                    ends_at=now + timedelta(days=300),
                    responsible_officer_id=officer_id,
                    conditions=[{"type": "trail"}],
                ),
            )
        protected = protected_details.add_protected_person(
            uow,
            operator_principal,
            container.cipher,
            high,
            ProtectedPersonDraft(
                full_name="Vera Victim",
                relationship="former_partner",
                address="1 Safe Street, Birmingham",
                phone=VICTIM_PHONE,
            ),
        )
        uow.commit()
    return Registry(
        team_id=team,
        other_team_id=other,
        officer_id=officer_id,
        high_risk_person=str(high),
        low_risk_person=str(low),
        other_team_person=str(elsewhere),
        protected_person=str(protected),
        operator=operator_principal,
        officer=Principal(id=91, name="po", role=Role.PROBATION_OFFICER, team_id=team),
        other_officer=Principal(id=92, name="po2", role=Role.PROBATION_OFFICER, team_id=other),
        police=Principal(id=93, name="wmp", role=Role.POLICE, force_area="WMP"),
        other_police=Principal(id=94, name="notts", role=Role.POLICE, force_area="NOT"),
        analyst=Principal(id=95, name="an", role=Role.ANALYST),
    )


def alert_settings(**overrides: Any) -> AlertSettings:
    values: dict[str, Any] = {
        "monitoring_centre_email": CENTRE_EMAIL,
        "duty_desk_email": DUTY_EMAIL,
        "duty_desk_phone": DUTY_PHONE,
        "control_room_webhooks": {"WMP": "http://127.0.0.1:9/wmp-control-room"},
        "webhook_secret": "test-webhook-secret",
        "outbox_backoff_base_s": 2.0,
        "outbox_backoff_cap_s": 60.0,
        "outbox_lease_s": 30.0,
        "outbox_poll_s": 0.05,
    }
    values.update(overrides)
    return AlertSettings(**values)


@pytest.fixture
def registry(container: Container) -> Registry:
    container.alerts.configure(alert_settings())
    return seed_registry(container)


def event(
    person_id: str,
    kind: EventKind = EventKind.EXCLUSION_ZONE,
    *,
    at: datetime,
    phase: EventPhase = EventPhase.STARTED,
    episode_id: str | None = None,
    condition_id: str | None = "7",
    lat: float | None = 52.4862,
    lon: float | None = -1.8904,
    detail: dict[str, Any] | None = None,
) -> EngineEvent:
    return EngineEvent(
        episode_id=episode_id or f"ep-{uuid.uuid4().hex[:12]}",
        person_id=person_id,
        condition_id=condition_id,
        kind=kind,
        phase=phase,
        start=at,
        end=at if phase is EventPhase.ENDED else None,
        raised_at=at,
        lat=lat,
        lon=lon,
        fix_ids=(1, 2),
        detail=detail or {},
    )


def handle(container: Container, *events: EngineEvent) -> list[AlertChange]:
    changes: list[AlertChange] = []
    with container.uow() as uow:
        for item in events:
            changes.extend(raising.handle_event(uow, item, container.alerts.context))
        uow.commit()
    return changes


@pytest.fixture
def weekday_morning(clock: FrozenClock) -> FrozenClock:
    # Monday 23 November 2026, 09:00 UTC = 09:00 in London: working hours.
    clock.set(datetime.fromisoformat("2026-11-23T09:00:00+00:00"))
    return clock


def add_user(container: Container, username: str, role: Role, **scope: Any) -> None:
    with container.uow() as uow:
        security.add_user(
            uow,
            username=username,
            password="a-long-enough-password-123",
            role=role,
            actor="test",
            **scope,
        )
        uow.commit()


def token(container: Container, role: Role) -> str:
    """A credential for ``role``: a signed-in user for a person's role, a token for a machine."""
    if role in MACHINE_ROLES:
        with container.uow() as uow:
            value = machine_tokens.create_token(uow, role=role, name=f"test {role}", actor="test")
            uow.commit()
        return value
    return staff_credential(container, role)
