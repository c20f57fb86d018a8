"""Liveness and readiness tell an operator what is down, instead of a 200 that hides it."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import START, make_settings
from vigil.bootstrap import Container, build_container
from vigil.clock import FrozenClock
from vigil.web.app import create_app


def _failing(response_json: dict[str, object]) -> set[str]:
    checks = response_json["checks"]
    assert isinstance(checks, list)
    return {check["name"] for check in checks if not check["ok"]}


def test_a_working_process_is_live_and_ready(client: TestClient) -> None:
    assert client.get("/livez").json() == {"status": "live"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    names = {check["name"] for check in ready.json()["checks"]}
    assert {"database", "bus", "alert_deliveries"} <= names
    assert client.get("/healthz").status_code == 200


def test_a_stuck_engine_loop_makes_the_process_not_ready(
    client: TestClient, container: Container
) -> None:
    container.heartbeats.beat("engine", START - timedelta(minutes=2))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert _failing(ready.json()) == {"loop:engine"}
    container.heartbeats.beat("engine", START)
    assert client.get("/readyz").status_code == 200


def test_an_unreachable_database_is_named_and_the_process_stays_live() -> None:
    # Nothing listens on port 1: the database is down as far as this process can tell.
    settings = make_settings("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    container = build_container(settings, clock=FrozenClock(START))
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        assert client.get("/livez").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert _failing(ready.json()) == {"database"}
        assert "OperationalError" in ready.text
    container.engine.dispose()
