"""FastAPI app factory: routers from every part, the layout, static files, error handling."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi.staticfiles import StaticFiles

from vigil import __version__
from vigil.bootstrap import Container
from vigil.settings import Environment
from vigil.web import openapi
from vigil.web.auth import enforce_route_permission
from vigil.web.errors import install_error_handlers
from vigil.web.headers import SecurityHeaders
from vigil.web.limits import BodyLimit
from vigil.web.navigation import NavItem
from vigil.web.templating import build_environment

STATIC_DIR = Path(__file__).with_name("static")

# Each part with an HTTP surface lists its module here; a module exposes ``router`` and may expose
# ``NAVIGATION`` (a list of NavItem) for the header and home pages and ``OPENAPI_PATHS`` for
# routes it serves outside FastAPI's routing.
ROUTER_MODULES: tuple[str, ...] = (
    "vigil.security.pages.sign_in",
    "vigil.security.pages.single_sign_on",
    "vigil.security.pages.account",
    "vigil.security.api",
    "vigil.people.pages",
    "vigil.people.api",
    "vigil.orders.pages",
    "vigil.orders.api",
    "vigil.devices.pages",
    "vigil.devices.api",
    "vigil.contact.api",
    "vigil.contact.pages.public_form",
    "vigil.contact.pages.casework",
    "vigil.contact.pages.statistics",
    "vigil.tracking.api",
    "vigil.alerts.api",
    "vigil.gateways.api",
    "vigil.gateways.pages",
    "vigil.bus.pages",
    "vigil.harm.pages",
    "vigil.harm.api",
    "vigil.evidence.api",
    "vigil.evidence.pages.crime",
    "vigil.evidence.pages.statistics",
    "vigil.evidence.pages.hub",
    "vigil.evidence.pages.person",
    "vigil.alerts.pages",
    "vigil.links.pages",
    "vigil.links.api",
    "vigil.web.home",
    "vigil.web.health",
    "vigil.web.metrics",
)


# What a process without the web role still answers: its health and its metrics.
OPERATIONS_MODULES: tuple[str, ...] = ("vigil.web.health", "vigil.web.metrics")


def create_operations_app(container: Container) -> FastAPI:
    """The HTTP surface of a gateway, engine or alerts process: health and metrics only."""
    app = FastAPI(title="Vigil (operations)", version=__version__, docs_url=None, openapi_url=None)
    app.state.container = container
    for module_name in OPERATIONS_MODULES:
        app.include_router(importlib.import_module(module_name).router)
    return app


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="Vigil",
        version=__version__,
        description="Electronic monitoring, unwanted prisoner contact and high-harm "
        "perpetrator identification.",
        # The API reference is for developers; production does not publish it.
        docs_url=None if container.settings.environment is Environment.PRODUCTION else "/docs",
        # Every route's declared permission (vigil.security.permissions), before its body is read.
        dependencies=[Depends(enforce_route_permission)],
    )
    app.state.container = container
    tiles = container.settings.map_tiles
    app.add_middleware(
        SecurityHeaders,
        hsts=container.settings.environment is not Environment.DEVELOPMENT,
        secure_cookies=container.settings.cookies_secure,
        tile_origin=tiles.origin if tiles else None,
    )
    app.state.templates = build_environment()
    # Every map on every page finds the street tiles in the layout, none in its own page.
    app.state.templates.globals["map_tiles"] = tiles.for_browser() if tiles else None
    navigation: list[NavItem] = []
    extra_paths: dict[str, Any] = {}
    for module_name in ROUTER_MODULES:
        module = importlib.import_module(module_name)
        app.include_router(module.router)
        navigation.extend(getattr(module, "NAVIGATION", []))
        extra_paths |= getattr(module, "OPENAPI_PATHS", {})
    app.state.navigation = navigation
    app.add_middleware(BodyLimit)
    openapi.install(app, extra_paths)
    app.state.templates.globals["navigation"] = navigation
    # GOV.UK Frontend's precompiled CSS asks for its fonts and images under /assets.
    (STATIC_DIR / "vendor" / "assets").mkdir(parents=True, exist_ok=True)
    app.mount("/assets", StaticFiles(directory=STATIC_DIR / "vendor" / "assets"), name="assets")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    install_error_handlers(app)
    return app


__all__ = ["HTTPException", "create_app"]
