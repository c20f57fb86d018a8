"""The demo pilot for page tests: seeded once per session into a SQLite file (through the
registry's own seeding), copied fresh for each test, and helpers to raise alerts through the
alerts part's own use case."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import START, make_settings
from vigil.alerts import raising
from vigil.bootstrap import Container, build_container
from vigil.clock import FrozenClock
from vigil.db import migrate
from vigil.engine.events import EngineEvent, EventKind, EventPhase
from vigil.orders import service as orders
from vigil.people import service as people
from vigil.people.service import PersonView
from vigil.security.model import SYSTEM
from vigil.sim.demo import seed_demo
from vigil.web.app import create_app


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    container = build_container(make_settings(url), clock=FrozenClock(START))
    seed_demo(container)
    container.engine.dispose()
    return path


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path, clock: FrozenClock) -> Iterator[Container]:
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    built = build_container(make_settings(f"sqlite:///{path}"), clock=clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def demo_client(demo: Container) -> Iterator[TestClient]:
    with TestClient(create_app(demo)) as client:
        yield client


def persons(container: Container) -> list[PersonView]:
    with container.uow() as uow:
        return people.list_persons(uow, SYSTEM)


def person_in(container: Container, team: str) -> PersonView:
    return next(p for p in persons(container) if p.team_name == team)


def exclusion_zone(container: Container, person_id: int) -> tuple[int, dict[str, object]]:
    with container.uow() as uow:
        for order in orders.list_orders(uow, SYSTEM, person_id):
            for condition in order.conditions:
                if condition.type.value == "exclusion_zone":
                    return condition.id, condition.params
    raise AssertionError(f"person {person_id} has no exclusion zone")


def raise_alert(
    container: Container,
    person_id: int,
    kind: EventKind = EventKind.EXCLUSION_ZONE,
    *,
    at: datetime | None = None,
    condition_id: int | None = None,
    lat: float = 52.4862,
    lon: float = -1.8904,
) -> int:
    at = at or container.clock.now()
    event = EngineEvent(
        episode_id=f"ep-{uuid.uuid4().hex[:12]}",
        person_id=str(person_id),
        condition_id=None if condition_id is None else str(condition_id),
        kind=kind,
        phase=EventPhase.STARTED,
        start=at,
        end=None,
        raised_at=at,
        lat=lat,
        lon=lon,
    )
    with container.uow() as uow:
        changes = raising.handle_event(uow, event, container.alerts.context)
        uow.commit()
    assert changes, "the alerts part raised nothing for the event"
    return changes[0].alert_id
