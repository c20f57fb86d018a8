"""A signed-in person's own account: what the alert queue tells them of new critical alerts,
two-step sign-in, signing out here or everywhere."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.errors import ValidationError
from vigil.security import permissions, sign_in, totp
from vigil.security.alert_preferences import (
    AlertPreferences,
    alert_preferences,
    set_alert_preferences,
)
from vigil.web.auth import (
    SESSION_COOKIE,
    ContainerDep,
    PagePrincipal,
)
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    with c.uow() as uow:
        chosen = alert_preferences(uow, principal)
        two_factor = totp.is_enabled(uow, principal.id)
    context = {
        "chosen": chosen,
        "two_factor": two_factor,
        "works_alerts": principal.may(permissions.ALERTS_WORK),
        "saved": request.query_params.get("saved") == "1",
    }
    return render(request, "security/account.html", context, principal=principal)


@router.post("/account/alert-notifications")
def save_alert_notifications(
    c: ContainerDep,
    principal: PagePrincipal,
    notify: Annotated[list[str] | None, Form(max_length=40)] = None,
) -> Response:
    """The boxes ticked are the choices; an unknown value is ignored (nothing else is stored)."""
    ticked = set(notify or ())
    chosen = AlertPreferences(
        sound="sound" in ticked,
        desktop_notification="desktop_notification" in ticked,
        tab_title_count="tab_title_count" in ticked,
    )
    with c.uow() as uow:
        set_alert_preferences(uow, principal, chosen)
        uow.commit()
    return RedirectResponse("/account?saved=1", status_code=303)


@router.get("/account/two-factor", response_class=HTMLResponse)
def two_factor_form(
    request: Request, c: ContainerDep, principal: PagePrincipal, replace: bool = False
) -> Response:
    """Set up the authenticator app: a new secret as a QR code and as text. When it is already
    on, only ``?replace=true`` starts again (the old app stops working; recovery codes still do)."""
    with c.uow() as uow:
        enabled = totp.is_enabled(uow, principal.id)
        if enabled and not replace:
            context: dict[str, Any] = {"enabled": True, "errors": [], "status_only": True}
            return render(request, "two_factor.html", context, principal=principal)
        enrolment = totp.start_enrolment(uow, c.cipher, principal)
        uow.commit()
    context = {
        "secret": enrolment.secret,
        "qr_svg": enrolment.qr_svg,
        "enabled": enabled,
        "errors": [],
    }
    return render(request, "two_factor.html", context, principal=principal)


@router.post("/account/two-factor", response_class=HTMLResponse)
def two_factor_confirm(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    code: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        with c.uow() as uow:
            codes = totp.confirm_enrolment(uow, c.cipher, principal, code)
            uow.commit()
    except ValidationError as exc:
        errors = [(e.field, e.reason) for e in exc.errors]
        return render(
            request,
            "two_factor.html",
            {"errors": errors, "secret": "", "qr_svg": "", "enabled": False},
            principal=principal,
            status_code=400,
        )
    return render(request, "two_factor.html", {"recovery_codes": codes}, principal=principal)


@router.post("/logout")
def logout(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    with c.uow() as uow:
        sign_in.log_out(uow, token, principal)
        uow.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/logout-everywhere")
def logout_everywhere(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    """End every session of the signed-in user, on every device (a lost laptop, a shared PC)."""
    with c.uow() as uow:
        sign_in.end_all_sessions(uow, principal.id, principal.actor)
        uow.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
