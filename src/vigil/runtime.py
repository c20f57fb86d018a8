"""Running the system: the web app plus the background services each part registers.

A background service is a module exposing ``async def run(container, stop: asyncio.Event)``; it
runs inside the server's event loop from start-up until ``stop`` is set at shutdown.

Services are grouped in roles, so a deployment can run each role as processes of its own (two web,
two gateway, N engine, two alert processes); the embedded set-up runs them all in one. A process
without the web role still answers ``/livez``, ``/readyz`` and ``/metrics``.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from vigil.bootstrap import Container
from vigil.logs import get_logger
from vigil.settings import Settings
from vigil.web.app import create_app, create_operations_app

ROLES: dict[str, tuple[str, ...]] = {
    # Staff pages and API, the prison systems' dial-time check, replays operators ask for.
    "web": ("vigil.contact.warmup", "vigil.contact.checkport", "vigil.bus.dead_letters"),
    # The device doors (and, in the demo, the simulated wearers, who stand in for devices).
    "gateways": ("vigil.gateways.service", "vigil.sim.live"),
    "engine": ("vigil.engine.worker",),
    # Alerts from engine events, their deliveries and escalation; scheduled reports; retention.
    "alerts": (
        "vigil.alerts.consumer",
        "vigil.alerts.worker",
        "vigil.evidence.scheduler",
        "vigil.retention",
        "vigil.security.checkpoints",
    ),
}
ALL_ROLES = tuple(ROLES)
BACKGROUND_SERVICES: tuple[str, ...] = tuple(s for role in ALL_ROLES for s in ROLES[role])


def parse_roles(text: str) -> tuple[str, ...]:
    """``"web,engine"`` → the roles in that order; ``"all"`` → every role."""
    if text.strip() == "all":
        return ALL_ROLES
    roles = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise ValueError(f"roles: {', '.join(unknown) or text!r}; choose from {', '.join(ROLES)}")
    return roles


def services_for(roles: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(service for role in roles for service in ROLES[role])


log = get_logger(__name__)

STOP_GRACE_S = 5


@asynccontextmanager
async def background_services(
    container: Container, services: tuple[str, ...] = BACKGROUND_SERVICES
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    tasks = []
    for name in services:
        module = importlib.import_module(name)
        tasks.append(asyncio.create_task(module.run(container, stop), name=name))
        log.info("service.started", service=name)
    # Handlers are subscribed by now, so the bus can start delivering to them.
    await container.bus.start()
    try:
        yield
    finally:
        stop.set()
        await container.bus.close()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        for name, result in zip(services, done, strict=True):
            if isinstance(result, BaseException):
                log.error("service.failed", service=name, error=repr(result))


def build_app_with_services(container: Container, roles: tuple[str, ...] = ALL_ROLES) -> FastAPI:
    app = create_app(container) if "web" in roles else create_operations_app(container)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with background_services(container, services_for(roles)):
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
