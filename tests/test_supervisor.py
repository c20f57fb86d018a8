"""The supervised runner: a background service that crashes is logged, counted, restarted with
backoff, and shown on the health checks and metrics until it runs again."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from vigil.bootstrap import Container
from vigil.supervisor import Service, ServiceStates, backoff_s, supervise
from vigil.web.app import create_app


def test_backoff_doubles_from_one_second_up_to_its_cap() -> None:
    assert [backoff_s(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff_s(30) == 60.0


def test_a_crashing_service_is_restarted_and_its_crashes_counted(container: Container) -> None:
    runs: list[int] = []

    async def flaky(stop: asyncio.Event) -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError(f"bad message {len(runs)}")
        await stop.wait()

    async def main() -> ServiceStates:
        states = ServiceStates()
        stop = asyncio.Event()
        task = asyncio.create_task(
            supervise(
                Service("test.flaky", flaky), stop, states, container.clock, backoff_base=0.01
            )
        )
        while len(runs) < 3:
            await asyncio.sleep(0.01)
        assert states.of("test.flaky").running
        stop.set()
        await task
        return states

    state = asyncio.run(main()).of("test.flaky")
    assert runs == [0, 1, 2]
    assert state.crashes == 2
    assert state.last_error == "RuntimeError: bad message 2"
    assert not state.running


def test_a_service_that_is_switched_off_returns_without_counting_a_crash(
    container: Container,
) -> None:
    async def off(stop: asyncio.Event) -> None:
        return None

    async def main() -> ServiceStates:
        states = ServiceStates()
        await supervise(Service("test.off", off), asyncio.Event(), states, container.clock)
        return states

    state = asyncio.run(main()).of("test.off")
    assert (state.crashes, state.running) == (0, False)


def test_a_service_waiting_to_restart_makes_the_process_not_ready(container: Container) -> None:
    state = container.service_states.of("alerts.deliver")
    state.crashes, state.last_error, state.running = 1, "OperationalError: gone", False
    with TestClient(create_app(container)) as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        [check] = [c for c in answer.json()["checks"] if c["name"] == "service:alerts.deliver"]
        assert check == {
            "name": "service:alerts.deliver",
            "ok": False,
            "detail": "restarting; 1 crashes, last: OperationalError: gone",
        }
        metrics = client.get("/metrics").text
        assert 'vigil_service_crashes_total{service="alerts.deliver"} 1.0' in metrics
        state.running = True
        assert client.get("/readyz").status_code == 200
