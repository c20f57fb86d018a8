"""Login and logout pages."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.security import service
from vigil.web.auth import (
    PRE_SESSION_CSRF_COOKIE,
    SESSION_COOKIE,
    ContainerDep,
    PagePrincipal,
    pre_session_csrf,
)
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only same-site paths, so the login form cannot be used as an open redirect.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return urlparse(target).path or "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    csrf = pre_session_csrf(request)
    request.state.csrf_token = csrf
    response = render(request, "login.html", {"next": _safe_next(next), "errors": []})
    response.set_cookie(
        PRE_SESSION_CSRF_COOKIE, csrf, httponly=True, samesite="strict", max_age=3600
    )
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    c: ContainerDep,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    expected = request.cookies.get(PRE_SESSION_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "errors": [("csrf_token", "The form expired: try again")]},
            status_code=403,
        )
    errors = []
    if not username.strip():
        errors.append(("username", "Enter your username"))
    if not password:
        errors.append(("password", "Enter your password"))
    session = None
    refused_status = 400
    if not errors:
        client = request.client.host if request.client else "unknown"
        try:
            with c.uow() as uow:
                session = service.log_in(uow, username, password, client)
        except service.SignInThrottled as throttled:
            wait = max(1, int((throttled.until - c.clock.now()).total_seconds()))
            message = f"Too many attempts. Wait {wait} seconds and try again"
            if throttled.locked:
                message = (
                    f"This account is locked after repeated failed sign-ins. Wait {wait} seconds"
                    " or ask an administrator"
                )
            errors.append(("username", message))
            refused_status = 429
        else:
            if session is None:
                errors.append(("username", "The username or password is not right"))
    if session is None:
        request.state.csrf_token = expected
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "errors": errors, "username": username},
            status_code=refused_status,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        httponly=True,
        samesite="lax",
        secure=c.settings.cookies_secure,
        max_age=int(service.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(PRE_SESSION_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    with c.uow() as uow:
        service.log_out(uow, token, principal)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/logout-everywhere")
def logout_everywhere(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    """End every session of the signed-in user, on every device (a lost laptop, a shared PC)."""
    with c.uow() as uow:
        service.end_all_sessions(uow, principal.id, principal.actor)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
