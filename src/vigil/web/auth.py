"""Request authentication: bearer tokens for the API, session cookies (with CSRF) for pages."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from vigil.bootstrap import Container
from vigil.security import sign_in
from vigil.security.model import SECOND_FACTOR_ROLES, Permission, PermissionDenied, Principal
from vigil.security.permissions import route_permission

SESSION_COOKIE = "vigil_session"
PRE_SESSION_CSRF_COOKIE = "vigil_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """A page needs a logged-in user; the app redirects to the login page."""


def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


ContainerDep = Annotated[Container, Depends(container)]


async def _submitted_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def check_csrf(request: Request, expected: str) -> None:
    if request.method in SAFE_METHODS:
        return
    submitted = await _submitted_csrf(request)
    if not submitted or not hmac.compare_digest(submitted, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "csrf_token: missing or does not match")


async def _resolve(request: Request) -> Principal | None:
    if hasattr(request.state, "principal"):
        found: Principal | None = request.state.principal
        return found
    c = container(request)
    principal: Principal | None = None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        principal = c.bearer_tokens.principal(auth[7:].strip())
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "authorization: the bearer token is unknown or revoked",
                headers={"WWW-Authenticate": "Bearer"},
            )
    elif token := request.cookies.get(SESSION_COOKIE):
        with c.uow() as uow:
            minutes = c.settings.session_idle_minutes
            idle = timedelta(minutes=minutes) if minutes else None
            info = sign_in.session_principal(uow, token, idle)
            uow.commit()
        if info is not None:
            # Cookies ride along on cross-site requests; only a CSRF token proves intent.
            await check_csrf(request, info.csrf_token)
            request.state.csrf_token = info.csrf_token
            principal = info.principal
    request.state.principal = principal
    return principal


async def _bearer_only(request: Request) -> Principal | None:
    """The bearer token's principal, ignoring session cookies (public doors have their own
    pre-session CSRF check, so a signed-in user's session must not be resolved on them)."""
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return None
    return await _resolve(request)


def _route_permission(request: Request) -> Permission | None:
    route = request.scope.get("route")
    # FastAPI names the matched route; a plain Starlette route (no path parameters) does not.
    path_format = getattr(route, "path_format", None) or request.url.path
    if not isinstance(path_format, str):
        return None
    return route_permission(request.method, path_format)


def _refuse_unless_permitted(request: Request, principal: Principal) -> None:
    permission = _route_permission(request)
    if permission is None:
        # An undeclared route serves no machine token; people are left to the use case's own
        # check, and the permission matrix test fails until the route is declared.
        if principal.is_machine:
            raise PermissionDenied(f"role {principal.role} may not do this")
        return
    # The same answer the use case gives (and the prison check port mirrors).
    principal.require(permission)


async def enforce_route_permission(request: Request) -> None:
    """App-wide dependency: the route's declared permission, checked before any body is read."""
    permission = _route_permission(request)
    if permission is not None and permission.anonymous:
        principal = await _bearer_only(request)
    else:
        principal = await _resolve(request)
    if principal is None:
        if permission is None or permission.anonymous:
            return
        if request.url.path.startswith("/api/"):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "authorization: log in or send a bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        raise LoginRequired()
    _refuse_unless_permitted(request, principal)
    _require_second_factor(request, principal)


# What a user without a second factor may still reach when one is required: setting it up.
SECOND_FACTOR_SETUP = frozenset({"/account/two-factor", "/logout", "/logout-everywhere", "/api/me"})


class SecondFactorSetupRequired(Exception):
    """A page needs the user to set up two-step sign-in first; the app redirects there."""


def _require_second_factor(request: Request, principal: Principal) -> None:
    if principal.is_machine or principal.second_factor:
        return
    if principal.role not in SECOND_FACTOR_ROLES:
        return
    if not container(request).settings.second_factor_required:
        return
    if request.url.path in SECOND_FACTOR_SETUP:
        return
    if request.url.path.startswith("/api/"):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "second_factor: set up two-step sign-in first"
        )
    raise SecondFactorSetupRequired()


async def api_principal(request: Request) -> Principal:
    principal = await _resolve(request)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "authorization: log in or send a bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # Plain Starlette routes (the dial-time check) have no app dependencies; check here too.
    _refuse_unless_permitted(request, principal)
    return principal


async def page_principal(request: Request) -> Principal:
    principal = await _resolve(request)
    if principal is None:
        raise LoginRequired()
    return principal


ApiPrincipal = Annotated[Principal, Depends(api_principal)]
PagePrincipal = Annotated[Principal, Depends(page_principal)]


def pre_session_csrf(request: Request) -> str:
    """CSRF token for forms shown before login (double-submit cookie)."""
    existing = request.cookies.get(PRE_SESSION_CSRF_COOKIE)
    return existing or secrets.token_urlsafe(32)


def page_csrf_token(request: Request) -> str:
    token = getattr(request.state, "csrf_token", None)
    if isinstance(token, str):
        return token
    return pre_session_csrf(request)
