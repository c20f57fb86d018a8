"""How the app answers what went wrong: GOV.UK error pages for people, JSON for machines
(``{"detail": [{"field", "reason"}]}`` for bad input)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.errors import NotFound, ValidationError
from vigil.security.model import OutOfScope, PermissionDenied
from vigil.web.auth import LoginRequired, SecondFactorSetupRequired
from vigil.web.templating import render

# What FastAPI answers (400) when reading a body fails other than by invalid JSON.
UNPARSEABLE_BODY = "There was an error parsing the body"


def install_error_handlers(app: FastAPI) -> None:
    app.exception_handler(LoginRequired)(login_required)
    app.exception_handler(SecondFactorSetupRequired)(second_factor)
    app.exception_handler(ValidationError)(invalid)
    app.exception_handler(RequestValidationError)(invalid_request)
    app.exception_handler(NotFound)(not_found)
    app.exception_handler(OutOfScope)(not_found)
    app.exception_handler(PermissionDenied)(forbidden)
    app.exception_handler(StarletteHTTPException)(http_error)


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


async def login_required(request: Request, _exc: LoginRequired) -> Response:
    return RedirectResponse(f"/login?next={quote(request.url.path, safe='/')}", status_code=303)


async def second_factor(_request: Request, _exc: SecondFactorSetupRequired) -> Response:
    return RedirectResponse("/account/two-factor", status_code=303)


async def invalid(request: Request, exc: ValidationError) -> Response:
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


async def invalid_request(_request: Request, exc: RequestValidationError) -> Response:
    return JSONResponse({"detail": _field_errors(exc)}, status_code=422)


async def not_found(request: Request, _exc: Exception) -> Response:
    return error_page(request, 404, "Page not found", "not found")


async def forbidden(request: Request, exc: Exception) -> Response:
    return error_page(request, 403, "You do not have access to this", str(exc))


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 400 and exc.detail == UNPARSEABLE_BODY:
        # JSON the parser gives up on (nested thousands deep) is a bad body like any other.
        detail = [{"field": "body", "reason": "must be JSON, nested at most a few levels"}]
        return JSONResponse({"detail": detail}, status_code=422)
    if _wants_html(request) and exc.status_code in (403, 404):
        title = "Page not found" if exc.status_code == 404 else "You do not have access"
        return error_page(request, exc.status_code, title, str(exc.detail))
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def error_page(request: Request, status_code: int, title: str, detail: str) -> Response:
    if _wants_html(request):
        return render(
            request,
            "error.html",
            {"title": title, "detail": detail},
            principal=getattr(request.state, "principal", None),
            status_code=status_code,
        )
    return JSONResponse({"detail": detail}, status_code=status_code)
