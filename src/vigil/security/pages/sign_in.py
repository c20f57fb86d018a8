"""Signing in: the password form, the second step's code, and the page both come back to."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.bootstrap import Container
from vigil.db.uow import UnitOfWork
from vigil.security import sealed, sign_in, single_sign_on
from vigil.text import ascii_digits
from vigil.web.auth import (
    PRE_SESSION_CSRF_COOKIE,
    SESSION_COOKIE,
    ContainerDep,
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
def login_form(request: Request, c: ContainerDep, next: str | None = None) -> Response:
    return _login_page(request, c, next or "/", [])


def _login_page(
    request: Request,
    c: Container,
    next: str,
    errors: list[Any],
    status_code: int = 200,
    **extra: str,
) -> HTMLResponse:
    """The sign-in page, with the password form's CSRF token kept or made, and the single
    sign-on button when a provider is configured."""
    csrf = getattr(request.state, "csrf_token", None) or pre_session_csrf(request)
    request.state.csrf_token = csrf
    provider = c.identity_provider
    context = {"next": _safe_next(next), "errors": errors, "provider": provider and provider.name}
    response = render(request, "login.html", {**context, **extra}, status_code=status_code)
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
        expired = [("csrf_token", "The form expired: try again")]
        return _login_page(request, c, next, expired, status_code=403)
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
            with attempt(c) as uow:
                session = sign_in.log_in(uow, username, password, client)
        except sign_in.SignInThrottled as throttled:
            errors.append(("username", _throttled_message(c, throttled)))
            refused_status = 429
        except sign_in.SecondFactorRequired as needed:
            return _ask_for_code(request, c, needed.user_id, expected, next)
        else:
            if session is None:
                errors.append(("username", "The username or password is not right"))
    if session is None:
        request.state.csrf_token = expected
        return _login_page(request, c, next, errors, status_code=refused_status, username=username)
    return _signed_in(c, session, next)


# The outcomes of a sign-in attempt that are answers, not faults: the attempt is still on record.
_REFUSALS = (
    sign_in.SignInThrottled,
    sign_in.SecondFactorRequired,
    single_sign_on.SingleSignOnRefused,
)


@contextmanager
def attempt(c: Container) -> Iterator[UnitOfWork]:
    """A sign-in attempt's unit of work, committed whatever the answer: every attempt is
    audited and counts towards the throttle, refusals most of all."""
    with c.uow() as uow:
        try:
            yield uow
        except _REFUSALS:
            uow.commit()
            raise
        uow.commit()


def _signed_in(c: Container, session: sign_in.NewSession, next: str) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        httponly=True,
        samesite="lax",
        secure=c.settings.cookies_secure,
        max_age=int(sign_in.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(PRE_SESSION_CSRF_COOKIE)
    response.delete_cookie(SECOND_FACTOR_COOKIE)
    return response


def _throttled_message(c: Container, throttled: sign_in.SignInThrottled) -> str:
    wait = max(1, int((throttled.until - c.clock.now()).total_seconds()))
    if throttled.locked:
        return (
            f"This account is locked after repeated failed sign-ins. Wait {wait} seconds"
            " or ask an administrator"
        )
    return f"Too many attempts. Wait {wait} seconds and try again"


# Between the password and the code: which user, until when, signed with the secret key so the
# browser cannot name another user. Five minutes to find the phone.
SECOND_FACTOR_COOKIE = "vigil_second_factor"
SECOND_FACTOR_WINDOW = timedelta(minutes=5)


def _pending_value(c: Container, user_id: int) -> str:
    until = c.clock.now() + SECOND_FACTOR_WINDOW
    return sealed.seal(c.settings.secret_key, {"user": str(user_id)}, until)


def _pending_user(c: Container, value: str) -> int | None:
    payload = sealed.unseal(c.settings.secret_key, value, c.clock.now())
    user = (payload or {}).get("user", "")
    return int(user) if ascii_digits(user) else None


def _ask_for_code(
    request: Request,
    c: Container,
    user_id: int,
    csrf: str,
    next: str,
    errors: list[Any] | None = None,
) -> Response:
    request.state.csrf_token = csrf
    response = render(
        request,
        "login_code.html",
        {"next": _safe_next(next), "errors": errors or []},
        status_code=400 if errors else 200,
    )
    response.set_cookie(
        SECOND_FACTOR_COOKIE,
        _pending_value(c, user_id),
        httponly=True,
        samesite="strict",
        secure=c.settings.cookies_secure,
        max_age=int(SECOND_FACTOR_WINDOW.total_seconds()),
    )
    return response


@router.post("/login/code", response_class=HTMLResponse)
def login_code(
    request: Request,
    c: ContainerDep,
    code: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """The second step of signing in: a TOTP or recovery code."""
    expected = request.cookies.get(PRE_SESSION_CSRF_COOKIE, "")
    user_id = _pending_user(c, request.cookies.get(SECOND_FACTOR_COOKIE, ""))
    if not expected or not hmac.compare_digest(expected, csrf_token) or user_id is None:
        return _login_page(request, c, next, [("username", "Sign in again")], status_code=403)
    client = request.client.host if request.client else "unknown"
    try:
        with attempt(c) as uow:
            session = sign_in.complete_second_factor(uow, c.cipher, user_id, code, client)
    except sign_in.SignInThrottled as throttled:
        errors = [("code", _throttled_message(c, throttled))]
        return _ask_for_code(request, c, user_id, expected, next, errors)
    if session is None:
        errors = [("code", "The code is not right: enter the code your app shows now")]
        return _ask_for_code(request, c, user_id, expected, next, errors)
    return _signed_in(c, session, next)
