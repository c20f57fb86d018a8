"""Running the system: the web app plus the background services each part registers.

A background service is a module exposing ``async def run(container, stop: asyncio.Event)``; it
runs inside the server's event loop from start-up until ``stop`` is set at shutdown.
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
from vigil.web.app import create_app

BACKGROUND_SERVICES: tuple[str, ...] = (
    "vigil.engine.worker",
    "vigil.alerts.consumer",
    "vigil.alerts.worker",
    "vigil.gateways.service",
    "vigil.sim.live",
    "vigil.evidence.scheduler",
    "vigil.contact.warmup",
    "vigil.contact.checkport",
    "vigil.bus.dead_letters",
    "vigil.security.checkpoints",
)

log = get_logger(__name__)


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


def build_app_with_services(container: Container) -> FastAPI:
    app = create_app(container)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with background_services(container):
            yield

    app.router.lifespan_context = lifespan
    return app


def run_server(container: Container, *, host: str, port: int) -> None:
    app = build_app_with_services(container)
    proxies = trusted_proxies(container.settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )


def trusted_proxies(settings: Settings) -> list[str]:
    """Addresses whose forwarded headers count. uvicorn's default believes X-Forwarded-For from
    127.0.0.1, so a client on the same host (or behind a proxy that passes the header through)
    could pick its own address and dodge the per-client limits; with none configured, forwarded
    headers are not read at all."""
    return [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
