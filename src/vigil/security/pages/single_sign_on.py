"""Signing in through the organisation's identity provider: leaving for it, coming back."""

from __future__ import annotations

import hmac
from dataclasses import asdict
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from vigil.bootstrap import Container
from vigil.errors import NotFound
from vigil.logs import get_logger
from vigil.security import oidc, sealed, single_sign_on
from vigil.security.pages.sign_in import _login_page, _safe_next, _signed_in, attempt
from vigil.web.auth import (
    ContainerDep,
)

router = APIRouter(include_in_schema=False)
log = get_logger(__name__)

# verifier, and where it was going. Ten minutes to sign in there.
SINGLE_SIGN_ON_COOKIE = "vigil_single_sign_on"
SINGLE_SIGN_ON_WINDOW = timedelta(minutes=10)


@router.get("/login/sso")
def single_sign_on_start(c: ContainerDep, next: str | None = None) -> Response:
    """Send the browser to the organisation's identity provider."""
    provider = c.identity_provider
    if provider is None:
        raise NotFound("single sign-on")
    try:
        url, pending = provider.client.start()
    except oidc.ProviderError as exc:
        log.warning("sso.unreachable", error=str(exc))
        return _provider_trouble(c)
    response = RedirectResponse(url, status_code=303)
    payload = {**asdict(pending), "next": _safe_next(next)}
    until = c.clock.now() + SINGLE_SIGN_ON_WINDOW
    response.set_cookie(
        SINGLE_SIGN_ON_COOKIE,
        sealed.seal(c.settings.secret_key, payload, until),
        httponly=True,
        # Lax: the provider sends the browser back with a top-level GET from its own site.
        samesite="lax",
        secure=c.settings.cookies_secure,
        max_age=int(SINGLE_SIGN_ON_WINDOW.total_seconds()),
    )
    return response


def _provider_trouble(c: Container) -> Response:
    return PlainTextResponse(
        f"Vigil could not reach {c.settings.oidc_provider_name}. Try again in a minute, or sign"
        " in with your Vigil username and password if you have one.",
        status_code=503,
    )


@router.get("/login/sso/callback", response_class=HTMLResponse)
def single_sign_on_return(
    request: Request,
    c: ContainerDep,
    code: Annotated[str, Query(max_length=2000)] = "",
    state: Annotated[str, Query(max_length=200)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Back from the identity provider: check the answer is for this browser, then sign in."""
    provider = c.identity_provider
    if provider is None:
        raise NotFound("single sign-on")
    payload = sealed.unseal(
        c.settings.secret_key, request.cookies.get(SINGLE_SIGN_ON_COOKIE, ""), c.clock.now()
    )
    next = (payload or {}).get("next", "/")
    if payload is not None and (error or not code):
        # Nothing is signed in on this answer, so it needs no matching state (some providers
        # leave it off their refusals).
        cancelled = [("sso", f"The sign-in at {provider.name} was cancelled or refused.")]
        return _login_page(request, c, next, cancelled, status_code=400)
    if payload is None or not state or not hmac.compare_digest(payload.get("state", ""), state):
        again = [("sso", "That sign-in had expired or was not started here. Try again.")]
        return _login_page(request, c, next, again, status_code=400)
    pending = oidc.PendingSignIn(payload["state"], payload["nonce"], payload["code_verifier"])
    try:
        identity = provider.client.finish(code, pending)
    except oidc.ProviderError as exc:
        log.warning("sso.refused_token", error=str(exc))
        refused = [("sso", f"{provider.name} did not confirm who you are. Try again.")]
        return _login_page(request, c, next, refused, status_code=400)
    client = request.client.host if request.client else "unknown"
    try:
        with attempt(c) as uow:
            session = single_sign_on.sign_in_with_provider(
                uow,
                identity,
                provider.mapping,
                second_factor_required=c.settings.second_factor_required,
                client=client,
            )
    except single_sign_on.SingleSignOnRefused as refused_in:
        return _login_page(request, c, next, [("sso", refused_in.reason)], status_code=403)
    response = _signed_in(c, session, next)
    response.delete_cookie(SINGLE_SIGN_ON_COOKIE)
    return response
