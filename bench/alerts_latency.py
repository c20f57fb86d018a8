"""Alert latency: a fix arriving at the gateway → alert committed → its server-sent event received.

    .venv/bin/python bench/alerts_latency.py [--probes 200] [--rate 2000] [--wearers 20000]

One process runs the system as ``vigil serve`` does on the embedded SQLite set-up: the OsmAnd
HTTP gateway, the engine worker, the alert consumer and the alert worker (escalation timer; no
outbound channels, since sending email is not on this path), and the web app under uvicorn. A
browser stand-in holds ``GET /api/alerts/stream`` open with httpx.

The registry is the demo pilot (``seed_demo``: about forty wearers with exclusion zones around
their victims' homes). Background traffic: a simulator publishes ``--rate`` fixes per second on
the bus (where gateways put them) for ``--wearers`` extra synthetic wearers, each with three
exclusion zones, wandering near home; they are added to the engine's monitoring plan, so every
background fix is stored in the trail and evaluated like a real one.

A probe takes a demo wearer into their exclusion zone: one fix deep inside, a pause, then the
confirming fix (the engine confirms on two), sent as an HTTP request to the OsmAnd gateway. The
clock starts just before that request and stops when the SSE event of the new alert arrives.
The wearer then goes home (closing the episode) and the next probe uses the next wearer.

Prints p50/p95/p99/max for an idle system and with background traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_common import make_world
from vigil.bootstrap import Container, build_container
from vigil.bus.model import Topic
from vigil.db import migrate
from vigil.devices import keys as device_keys
from vigil.devices import service as devices_service
from vigil.gateways.directory import KnownDevices
from vigil.gateways.http_door import OSMAND, HttpDoor
from vigil.gateways.runner import intake_for
from vigil.orders import plan_for_engine
from vigil.runtime import background_services, services_named
from vigil.security import machine_tokens
from vigil.security.model import SYSTEM, Role
from vigil.settings import Environment, Settings, new_encryption_key_entry
from vigil.sim.demo import seed_demo
from vigil.tracking.model import Fix
from vigil.web.app import create_app

SERVICES = ("engine.watch", "alerts.raise", "alerts.deliver", "alerts.escalate")
M_PER_DEG = 111_320.0


def probe_targets(container: Container) -> list[dict[str, Any]]:
    """Demo wearers with a GPS tag and a circular exclusion zone."""
    with container.uow() as uow:
        plan = plan_for_engine.monitoring_plan_json(uow, container.clock.now())
    targets = []
    for person in plan["persons"]:
        zones = [
            c
            for c in person["conditions"]
            if c.get("type") == "exclusion_zone" and c["geometry"]["type"] == "Point"
        ]
        if not zones or not person["devices"]:
            continue
        zlon, zlat = zones[0]["geometry"]["coordinates"]
        targets.append(
            {
                "person": person["id"],
                "device": person["devices"][0],
                "zone": (zlat, zlon),
                "radius": float(zones[0]["radius_m"]),
            }
        )
    return targets


def with_background_wearers(wearers: int) -> Any:
    """Add synthetic wearers to the plan the engine reads from the registry (benchmark only)."""
    original = plan_for_engine.monitoring_plan_json
    world = make_world(wearers, zones_per=3, seed=7)
    for person in world.scenario["persons"]:
        person["id"] = f"bg-{person['id']}"
        person["devices"] = [f"bg-{d}" for d in person["devices"]]

    def plan(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raw = original(*args, **kwargs)
        raw["persons"] = [*raw["persons"], *world.scenario["persons"]]
        return raw

    plan_for_engine.monitoring_plan_json = plan  # type: ignore[assignment]
    return world


async def background_traffic(
    container: Container, world: Any, rate: int, stop: asyncio.Event, sent: list[int]
) -> None:
    """``rate`` fixes per second on the bus, in 20 ms slices, wearers round-robin near home."""
    rng = np.random.default_rng(11)
    n = world.home_lon.shape[0]
    cursor = 0
    per_slice = max(1, rate // 50)
    next_at = time.perf_counter()
    while not stop.is_set():
        now = datetime.now(UTC)
        idx = (cursor + np.arange(per_slice)) % n
        cursor = int((cursor + per_slice) % n)
        jitter = rng.normal(0, 40, (per_slice, 2))
        lat = world.home_lat[idx] + jitter[:, 1] / M_PER_DEG
        lon = world.home_lon[idx] + jitter[:, 0] / (M_PER_DEG * np.cos(np.radians(lat)))
        fixes = [
            Fix(
                device_id=f"bg-T{int(w)}",
                fix_time=now,
                receive_time=now,
                lat=float(la),
                lon=float(lo),
                protocol="sim",
                accuracy_m=15.0,
            )
            for w, la, lo in zip(idx, lat, lon, strict=True)
        ]
        await container.bus.publish(Topic.FIXES, fixes)
        sent[0] += len(fixes)
        next_at += 0.02
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))


@contextlib.asynccontextmanager
async def web(container: Container) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(container),
            host="127.0.0.1",
            port=0,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def sse_reader(client: httpx.AsyncClient, token: str, arrivals: asyncio.Queue[Any]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with client.stream("GET", "/api/alerts/stream", headers=headers, timeout=None) as resp:
        data = None
        async for line in resp.aiter_lines():
            if line.startswith("data: "):
                data = json.loads(line[6:])
            elif not line and data is not None:
                await arrivals.put((time.perf_counter(), data))
                data = None


def osmand_query(target: dict[str, Any], lat: float, lon: float) -> str:
    """A phone's report through the OsmAnd door, with the device key in the path."""
    query = f"id={target['device']}&lat={lat:.6f}&lon={lon:.6f}&timestamp={time.time():.3f}"
    return f"/{target['key']}?{query}&accuracy=8"


def issue_door_keys(container: Container, targets: list[dict[str, Any]]) -> None:
    """Each probed tag gets the key the OsmAnd door requires of it."""
    with container.uow() as uow:
        ids = {d.external_id: d.id for d in devices_service.list_devices(uow, SYSTEM)}
        for target in targets:
            target["key"] = device_keys.issue_key(uow, SYSTEM, ids[target["device"]])


def just_outside(target: dict[str, Any]) -> tuple[float, float]:
    """60 m beyond the zone's edge, due east: clear of the zone, close enough to walk back."""
    zlat, zlon = target["zone"]
    east = target["radius"] + 60.0
    return zlat, zlon + east / (M_PER_DEG * np.cos(np.radians(zlat)))


async def raised_for(person: str, arrivals: asyncio.Queue[Any], timeout: float) -> float | None:
    """When the SSE event of a new exclusion-zone alert for ``person`` arrived, if it does."""
    deadline = time.perf_counter() + timeout
    while (left := deadline - time.perf_counter()) > 0:
        try:
            at, data = await asyncio.wait_for(arrivals.get(), timeout=left)
        except TimeoutError:
            return None
        if (data["person_id"], data["kind"], data["action"]) == (
            person,
            "exclusion_zone",
            "raised",
        ):
            return float(at)
    return None


async def run_probes(
    gateway: httpx.AsyncClient,
    targets: list[dict[str, Any]],
    probes: int,
    arrivals: asyncio.Queue[Any],
    engine_seen: dict[str, float],
) -> tuple[list[float], list[float]]:
    """Probe i takes wearer i into the zone and walks wearer i-10 out of theirs, so every move
    is slower than the engine's 60 m/s plausibility limit and each visit is a new episode."""
    latencies: list[float] = []
    alert_part: list[float] = []
    lag = min(10, len(targets) // 2)
    for i in range(probes):
        round_started = time.perf_counter()
        target = targets[i % len(targets)]
        zlat, zlon = target["zone"]
        while not arrivals.empty():
            arrivals.get_nowait()
        engine_seen.pop(target["person"], None)
        # Usually the second fix inside confirms the visit; sometimes the first does. The clock
        # runs from the last fix sent before the engine's event reached the bus.
        sent: list[float] = []
        for step, lat in enumerate((zlat, zlat + 0.00002)):
            sent.append(time.perf_counter())
            response = await gateway.get(osmand_query(target, lat, zlon))
            response.raise_for_status()
            arrived = await raised_for(target["person"], arrivals, 0.3 if step == 0 else 10.0)
            if arrived is not None:
                engine_at = engine_seen.get(target["person"], arrived)
                started = max(t for t in sent if t <= engine_at)
                latencies.append((arrived - started) * 1000)
                alert_part.append((arrived - engine_at) * 1000)
                break
        else:
            raise TimeoutError(f"no alert for probe {i} ({target['person']})")
        if i >= lag:
            leaving = targets[(i - lag) % len(targets)]
            olat, olon = just_outside(leaving)
            for _ in range(2):  # two clear fixes end the episode
                await gateway.get(osmand_query(leaving, olat, olon))
                await asyncio.sleep(0.05)
        await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - round_started)))
    return latencies, alert_part


async def scenario(rate: int, wearers: int, probes: int, workdir: Path) -> dict[str, Any]:
    db = workdir / f"alerts-bench-{rate}.db"
    settings = Settings(
        environment=Environment.DEMO,
        database_url=f"sqlite:///{db}",
        secret_key="bench-secret-key-that-is-long-enough-0123456789",  # noqa: S106
        field_encryption_keys=new_encryption_key_entry("b1"),
        log_level="ERROR",
    )
    migrate.upgrade(settings.database_url)
    container = build_container(settings)
    seed_demo(container)
    targets = probe_targets(container)
    issue_door_keys(container, targets)
    with container.uow() as uow:
        token = machine_tokens.create_token(uow, role=Role.MONITORING_OPERATOR, name="bench")
        uow.commit()
    original_plan = plan_for_engine.monitoring_plan_json
    world = with_background_wearers(wearers) if rate else None
    container.alerts.configure(container.alerts.settings, channels={})
    arrivals: asyncio.Queue[Any] = asyncio.Queue()
    engine_seen: dict[str, float] = {}

    async def on_engine_events(batch: list[Any]) -> None:
        # When the engine's exclusion-zone event reaches the bus: splits engine from alerts.
        now = time.perf_counter()
        for item in batch:
            if item.kind.value == "exclusion_zone" and item.phase.value == "started":
                engine_seen.setdefault(item.person_id, now)

    container.bus.subscribe(Topic.ENGINE_EVENTS, on_engine_events)
    stop = asyncio.Event()
    sent = [0]
    try:
        async with (
            background_services(container, services_named(container, SERVICES)),
            web(container) as base,
        ):
            with container.uow() as uow:
                register = KnownDevices.load(uow)
            door = HttpDoor(OSMAND, intake_for(container, register), container.clock)
            gateway_server = await door.start("127.0.0.1", 0)
            port = gateway_server.sockets[0].getsockname()[1]
            async with (
                httpx.AsyncClient(base_url=base) as client,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as gateway,
            ):
                reader = asyncio.create_task(sse_reader(client, token, arrivals))
                traffic = (
                    asyncio.create_task(background_traffic(container, world, rate, stop, sent))
                    if rate
                    else None
                )
                # The engine subscribes to fixes once its plan is loaded (tens of seconds for
                # twenty thousand wearers); then let the traffic settle.
                while not container.bus._handlers.get(Topic.FIXES):  # type: ignore[attr-defined]
                    await asyncio.sleep(0.2)
                await asyncio.sleep(5)
                began = time.perf_counter()
                sent_before = sent[0]
                latencies, alert_part = await run_probes(
                    gateway, targets, probes, arrivals, engine_seen
                )
                elapsed = time.perf_counter() - began
                achieved = (sent[0] - sent_before) / elapsed
                stop.set()
                if traffic:
                    await traffic
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            gateway_server.close()
            await gateway_server.wait_closed()
    finally:
        plan_for_engine.monitoring_plan_json = original_plan  # type: ignore[assignment]
        container.engine.dispose()
    values = np.array(latencies)
    alerts_only = np.array(alert_part)
    return {
        "alerts_p50": float(np.percentile(alerts_only, 50)),
        "alerts_p99": float(np.percentile(alerts_only, 99)),
        "rate": rate,
        "achieved": achieved,
        "probes": len(values),
        "p50": float(np.percentile(values, 50)),
        "p95": float(np.percentile(values, 95)),
        "p99": float(np.percentile(values, 99)),
        "max": float(values.max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--wearers", type=int, default=20_000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rate in dict.fromkeys((0, args.rate)):
            rows.append(asyncio.run(scenario(rate, args.wearers, args.probes, Path(tmp))))
    print("\nAlert latency, fix at the OsmAnd gateway → alert committed → SSE event received")
    machine = platform.processor() or platform.machine()
    print(f"{machine}, Python {platform.python_version()}, SQLite\n")
    print(
        "| background fixes/s (target / achieved) | probes | p50 ms | p95 ms | p99 ms | max ms "
        "| engine event → SSE p50 / p99 ms |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['rate']} / {row['achieved']:.0f} | {row['probes']} | {row['p50']:.1f} | "
            f"{row['p95']:.1f} | {row['p99']:.1f} | {row['max']:.1f} "
            f"| {row['alerts_p50']:.1f} / {row['alerts_p99']:.1f} |"
        )


if __name__ == "__main__":
    main()
