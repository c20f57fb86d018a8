"""Running the system: the web app plus the background services each part registers.

A background service is a name and ``async def run(stop: asyncio.Event)``, handed only what it
uses; it runs inside the server's event loop under ``vigil.supervisor`` (a crash is logged,
counted and restarted with backoff) from start-up until ``stop`` is set at shutdown.

Services are grouped in roles, so a deployment can run each role as processes of its own (two web,
two gateway, N engine, two alert processes); the embedded set-up runs them all in one. A process
without the web role still answers ``/livez``, ``/readyz`` and ``/metrics``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from vigil import retention
from vigil.alerts import consumer as alert_consumer
from vigil.alerts import escalation as alert_escalation
from vigil.alerts import worker as alert_delivery
from vigil.bootstrap import Container
from vigil.bus import dead_letters
from vigil.contact import checkport, warmup
from vigil.engine import runner as engine_runner
from vigil.evidence import scheduler as weekly_scheduler
from vigil.gateways import runner as gateway_runner
from vigil.links import crossing
from vigil.logs import get_logger
from vigil.security import checkpoints
from vigil.settings import Settings
from vigil.sim import live as simulated_wearers
from vigil.supervisor import Service, supervise
from vigil.web.app import create_app, create_operations_app


def _web(c: Container) -> list[Service]:
    # Staff pages and API, the prison systems' dial-time check, replays operators ask for.
    return [
        Service(
            "contact.index_warmup", lambda stop: warmup.run(c.enforcement_index, c.engine, stop)
        ),
        Service("contact.check_port", lambda stop: checkport.run(c.check_port(), stop)),
        Service("bus.replays", lambda stop: dead_letters.run(c, stop)),
    ]


def _gateways(c: Container) -> list[Service]:
    # The device doors (and, in the demo, the simulated wearers, who stand in for devices).
    return [
        Service("gateways.doors", lambda stop: gateway_runner.run(c, stop)),
        Service("sim.wearers", lambda stop: simulated_wearers.run(c, stop)),
    ]


def _engine(c: Container) -> list[Service]:
    return [Service("engine.watch", lambda stop: engine_runner.run(c, stop))]


def _alerts(c: Container) -> list[Service]:
    # Alerts from engine events, their deliveries and escalation; scheduled reports; retention.
    return [
        Service("alerts.raise", lambda stop: alert_consumer.run(c.alerts, stop)),
        Service("alerts.deliver", lambda stop: alert_delivery.run(c.alerts, stop)),
        Service("alerts.escalate", lambda stop: alert_escalation.run(c.alerts, stop)),
        Service("links.crossing", lambda stop: crossing.run(c.alerts, stop)),
        Service("evidence.weekly", lambda stop: weekly_scheduler.run(c, stop)),
        Service("retention.daily", lambda stop: retention.run(c, stop)),
        Service("security.audit_checkpoints", lambda stop: checkpoints.run(c, stop)),
    ]


ROLES: dict[str, Callable[[Container], list[Service]]] = {
    "web": _web,
    "gateways": _gateways,
    "engine": _engine,
    "alerts": _alerts,
}
ALL_ROLES = tuple(ROLES)


def parse_roles(text: str) -> tuple[str, ...]:
    """``"web,engine"`` → the roles in that order; ``"all"`` → every role."""
    if text.strip() == "all":
        return ALL_ROLES
    roles = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise ValueError(f"roles: {', '.join(unknown) or text!r}; choose from {', '.join(ROLES)}")
    return roles


def services_for(c: Container, roles: tuple[str, ...] = ALL_ROLES) -> list[Service]:
    return [service for role in roles for service in ROLES[role](c)]


def services_named(c: Container, names: tuple[str, ...]) -> list[Service]:
    """Some services by name, e.g. ``("engine.watch", "alerts.raise")`` (tests, benchmarks)."""
    found = {service.name: service for service in services_for(c)}
    missing = [name for name in names if name not in found]
    if missing:
        raise ValueError(
            f"no background service {', '.join(missing)}; services: {', '.join(found)}"
        )
    return [found[name] for name in names]


log = get_logger(__name__)

STOP_GRACE_S = 5


@asynccontextmanager
async def background_services(
    container: Container, services: list[Service] | None = None
) -> AsyncIterator[None]:
    """Run ``services`` (every role's by default) under supervision until the block ends."""
    stop = asyncio.Event()
    chosen = services_for(container) if services is None else services
    tasks = [
        asyncio.create_task(
            supervise(service, stop, container.service_states, container.clock), name=service.name
        )
        for service in chosen
    ]
    # Handlers are subscribed by now, so the bus can start delivering to them.
    await asyncio.sleep(0)
    await container.bus.start()
    try:
        yield
    finally:
        stop.set()
        await container.bus.close()
        await asyncio.gather(*tasks, return_exceptions=True)


def build_app_with_services(container: Container, roles: tuple[str, ...] = ALL_ROLES) -> FastAPI:
    app = create_app(container) if "web" in roles else create_operations_app(container)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with background_services(container, services_for(container, roles)):
            yield

    app.router.lifespan_context = lifespan
    return app


def run_server(
    container: Container, *, host: str, port: int, roles: tuple[str, ...] = ALL_ROLES
) -> None:
    log.info("server.roles", roles=",".join(roles))
    app = build_app_with_services(container, roles)
    proxies = trusted_proxies(container.settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        # Live alert streams never end by themselves: on stop, they are given this long to
        # finish, then cut, so the process stops and the browsers reconnect elsewhere.
        timeout_graceful_shutdown=STOP_GRACE_S,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )


def trusted_proxies(settings: Settings) -> list[str]:
    """Addresses whose forwarded headers count. uvicorn's default believes X-Forwarded-For from
    127.0.0.1, so a client on the same host (or behind a proxy that passes the header through)
    could pick its own address and dodge the per-client limits; with none configured, forwarded
    headers are not read at all."""
    return [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
