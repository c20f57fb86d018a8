"""The live stream: a real uvicorn server on an ephemeral port with the alert services running;
an engine event published on the real in-process bus reaches a subscribed browser (httpx
streaming) as a server-sent event. Also: replay after reconnect, and scope filtering."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn

from tests.alerts.conftest import Registry, event, token
from tests.staff_sessions import auth_headers
from vigil.alerts.channels.sse import LiveHub
from vigil.alerts.model import AlertChange, AlertStatus, HistoryAction, Severity
from vigil.bootstrap import Container
from vigil.bus.model import Topic
from vigil.clock import FrozenClock
from vigil.runtime import build_app_with_services
from vigil.security.model import Role


@contextlib.asynccontextmanager
async def running_server(container: Container) -> AsyncIterator[str]:
    config = uvicorn.Config(
        build_app_with_services(container),
        host="127.0.0.1",
        port=0,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def next_event(lines: AsyncIterator[str]) -> dict[str, Any]:
    fields: dict[str, str] = {}
    async for line in lines:
        if not line:
            if "data" in fields:
                return {
                    "id": fields.get("id"),
                    "event": fields.get("event"),
                    **json.loads(fields["data"]),
                }
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        fields[name] = value
    raise AssertionError("stream ended")


async def test_sse_stream_delivers_a_new_alert_to_a_subscribed_client(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    # No outbound deliveries in this test.
    container.alerts.configure(container.alerts.settings, channels={})
    headers = auth_headers(token(container, Role.MONITORING_OPERATOR))
    async with running_server(container) as base, httpx.AsyncClient(base_url=base) as client:
        async with client.stream("GET", "/api/alerts/stream", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            violation = event(registry.high_risk_person, at=weekday_morning.now())
            await container.bus.publish(Topic.ENGINE_EVENTS, [violation])
            received = await asyncio.wait_for(next_event(lines), timeout=5)
        assert received["event"] == "alert"
        assert received["action"] == "raised"
        assert received["severity"] == "critical"
        assert received["person_id"] == registry.high_risk_person
        alert_id = received["alert_id"]
        listed = (await client.get("/api/alerts", headers=headers)).json()["alerts"]
        assert [a["id"] for a in listed] == [alert_id]
        # Acknowledging through the API is a change every other browser sees; a browser that
        # reconnects with Last-Event-ID gets exactly what it missed.
        ack = await client.post(
            f"/api/alerts/{alert_id}/acknowledge", json={"note": "on it"}, headers=headers
        )
        assert ack.status_code == 200, ack.text
        resume = {**headers, "Last-Event-ID": str(received["id"])}
        async with client.stream("GET", "/api/alerts/stream", headers=resume) as response:
            missed = await asyncio.wait_for(next_event(response.aiter_lines()), timeout=5)
        assert (missed["alert_id"], missed["action"]) == (alert_id, "acknowledged")


async def test_api_rejects_bad_resolution_and_unknown_filters(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    container.alerts.configure(container.alerts.settings, channels={})
    headers = auth_headers(token(container, Role.MONITORING_OPERATOR))
    analyst = auth_headers(token(container, Role.ANALYST))
    async with running_server(container) as base, httpx.AsyncClient(base_url=base) as client:
        await container.bus.publish(
            Topic.ENGINE_EVENTS, [event(registry.low_risk_person, at=weekday_morning.now())]
        )
        for _ in range(100):
            listed = (await client.get("/api/alerts", headers=headers)).json()["alerts"]
            if listed:
                break
            await asyncio.sleep(0.02)
        alert_id = listed[0]["id"]
        bad = await client.post(f"/api/alerts/{alert_id}/resolve", json={}, headers=headers)
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["detail"]} == {"outcome", "note"}
        wrong = await client.get("/api/alerts?status=open", headers=headers)
        assert wrong.status_code == 422
        assert wrong.json()["detail"][0]["field"] == "status"
        assert (await client.get("/api/alerts", headers=analyst)).status_code == 403
        assert (await client.get("/api/alerts/999999", headers=headers)).status_code == 404
        done = await client.post(
            f"/api/alerts/{alert_id}/resolve",
            json={"outcome": "false_alert", "note": "GPS drift at the boundary"},
            headers=headers,
        )
        assert done.json()["status"] == "resolved"


async def test_hub_sends_each_browser_only_alerts_its_user_may_see(registry: Registry) -> None:
    hub = LiveHub()
    police = hub.connect(registry.police)
    other_force = hub.connect(registry.other_police)
    officer = hub.connect(registry.officer)

    def change(severity: Severity) -> dict[str, Any]:
        return AlertChange(
            alert_id=1,
            history_id=1,
            action=HistoryAction.RAISED,
            status=AlertStatus.NEW,
            severity=severity,
            kind="exclusion_zone",
            person_id=registry.high_risk_person,
            managing_team_id=registry.team_id,
            force_area="WMP",
            escalated=False,
            escalation_level=0,
            at=datetime(2026, 11, 23, tzinfo=UTC),
        ).message_json()

    await hub.on_changes([change(Severity.CRITICAL), change(Severity.LOW)])
    assert police.queue.qsize() == 1  # critical only
    assert other_force.queue.qsize() == 0
    assert officer.queue.qsize() == 2
