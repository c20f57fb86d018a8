"""FastAPI app factory: routers from every part, the layout, static files, error handling."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil import __version__
from vigil.bootstrap import Container
from vigil.errors import NotFound, ValidationError
from vigil.security.model import OutOfScope, PermissionDenied
from vigil.settings import Environment
from vigil.web import openapi
from vigil.web.auth import LoginRequired, SecondFactorSetupRequired, enforce_route_permission
from vigil.web.headers import SecurityHeaders
from vigil.web.limits import BodyLimit
from vigil.web.navigation import NavItem
from vigil.web.templating import build_environment, render

STATIC_DIR = Path(__file__).with_name("static")
# What FastAPI answers (400) when reading a body fails other than by invalid JSON.
UNPARSEABLE_BODY = "There was an error parsing the body"

# Each part with an HTTP surface lists its module here; a module exposes ``router`` and may expose
# ``NAVIGATION`` (a list of NavItem) for the header and home pages and ``OPENAPI_PATHS`` for
# routes it serves outside FastAPI's routing.
ROUTER_MODULES: tuple[str, ...] = (
    "vigil.security.pages",
    "vigil.security.api",
    "vigil.people.pages",
    "vigil.people.api",
    "vigil.orders.pages",
    "vigil.orders.api",
    "vigil.devices.pages",
    "vigil.devices.api",
    "vigil.contact.api",
    "vigil.contact.pages",
    "vigil.tracking.api",
    "vigil.alerts.api",
    "vigil.gateways.api",
    "vigil.gateways.pages",
    "vigil.bus.pages",
    "vigil.harm.pages",
    "vigil.harm.api",
    "vigil.evidence.api",
    "vigil.evidence.pages",
    "vigil.monitoring.pages",
    "vigil.web.home",
    "vigil.web.health",
    "vigil.web.metrics",
)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _same_site_referer(request: Request) -> str:
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    return referer[len(base) - 1 :] if referer.startswith(base) else "/"


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        if error.get("type") == "json_invalid":
            location = []  # the position in the text, not a field: the body as a whole is wrong
        out.append({"field": ".".join(location) or "body", "reason": str(error.get("msg"))})
    return out


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
    app.add_middleware(
        SecurityHeaders,
        hsts=container.settings.environment is not Environment.DEVELOPMENT,
        secure_cookies=container.settings.cookies_secure,
    )
    app.state.templates = build_environment()
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

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(request.url.path, safe='/')}", status_code=303)

    @app.exception_handler(SecondFactorSetupRequired)
    async def _second_factor(_request: Request, _exc: SecondFactorSetupRequired) -> Response:
        return RedirectResponse("/account/two-factor", status_code=303)

    @app.exception_handler(ValidationError)
    async def _invalid(request: Request, exc: ValidationError) -> Response:
        if _wants_html(request):
            # A page form whose handler did not re-show itself: still the GOV.UK error summary,
            # naming each field, with the way back to the form.
            return render(
                request,
                "form_errors.html",
                {
                    "errors": [(e.field, f"{e.field}: {e.reason}") for e in exc.errors],
                    "back": _same_site_referer(request),
                },
                principal=getattr(request.state, "principal", None),
                status_code=422,
            )
        detail = [{"field": e.field, "reason": e.reason} for e in exc.errors]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"detail": _field_errors(exc)}, status_code=422)

    @app.exception_handler(NotFound)
    @app.exception_handler(OutOfScope)
    async def _not_found(request: Request, _exc: Exception) -> Response:
        return _error(request, 404, "Page not found", "not found")

    @app.exception_handler(PermissionDenied)
    async def _forbidden(request: Request, exc: Exception) -> Response:
        return _error(request, 403, "You do not have access to this", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == UNPARSEABLE_BODY:
            # JSON the parser gives up on (nested thousands deep) is a bad body like any other.
            detail = [{"field": "body", "reason": "must be JSON, nested at most a few levels"}]
            return JSONResponse({"detail": detail}, status_code=422)
        if _wants_html(request) and exc.status_code in (403, 404):
            title = "Page not found" if exc.status_code == 404 else "You do not have access"
            return _error(request, exc.status_code, title, str(exc.detail))
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    return app


def _error(request: Request, status_code: int, title: str, detail: str) -> Response:
    if _wants_html(request):
        return render(
            request,
            "error.html",
            {"title": title, "detail": detail},
            principal=getattr(request.state, "principal", None),
            status_code=status_code,
        )
    return JSONResponse({"detail": detail}, status_code=status_code)


__all__ = ["HTTPException", "create_app"]
