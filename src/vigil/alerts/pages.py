"""Staff pages: the live alert queue (updated by server-sent events) and one alert's history,
with acknowledge, escalate, resolve and note forms."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.alerts import service
from vigil.alerts.model import ALERT_ROLES, RESOLVE_ROLES, AlertChange, AlertStatus, Outcome
from vigil.alerts.wiring import context, publish_changes, writing
from vigil.errors import ValidationError
from vigil.security.model import PermissionDenied, Principal
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)
NAVIGATION = [
    NavItem(
        "Alerts",
        "/alerts",
        ALERT_ROLES,
        "The live alert queue: acknowledge, escalate and resolve.",
    )
]
SEVERITY_TAGS = {"critical": "red", "high": "orange", "medium": "yellow", "low": "grey"}
STATUS_TAGS = {"new": "blue", "acknowledged": "purple", "resolved": "green"}


def _require(principal: Principal) -> None:
    if principal.role not in ALERT_ROLES:
        raise PermissionDenied(f"role {principal.role} does not work with alerts")


@router.get("/alerts", response_class=HTMLResponse)
async def queue(request: Request, principal: PagePrincipal, c: ContainerDep) -> Response:
    _require(principal)
    flt = service.AlertFilter(status=[AlertStatus.NEW, AlertStatus.ACKNOWLEDGED], limit=200)

    def work() -> list[dict[str, Any]]:
        with c.uow() as uow:
            return service.list_alerts(uow, principal, flt)

    rows = await asyncio.to_thread(work)
    rows.sort(key=lambda a: (a["status"] != "new", -_rank(a["severity"]), a["created_at"]))
    return render(
        request,
        "alerts/queue.html",
        {"alerts": rows, "severity_tags": SEVERITY_TAGS, "status_tags": STATUS_TAGS},
        principal=principal,
    )


def _rank(severity: str) -> int:
    return {"critical": 3, "high": 2, "medium": 1}.get(severity, 0)


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
async def detail(
    alert_id: int, request: Request, principal: PagePrincipal, c: ContainerDep
) -> Response:
    def work() -> dict[str, Any]:
        with c.uow() as uow:
            return service.get_alert(uow, principal, alert_id)

    alert = await asyncio.to_thread(work)
    return _detail(request, principal, alert, [])


def _detail(
    request: Request,
    principal: Principal,
    alert: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "alerts/alert.html",
        {
            "alert": alert,
            "errors": errors,
            "outcomes": [o.value for o in Outcome],
            "may_resolve": principal.role in RESOLVE_ROLES,
            "severity_tags": SEVERITY_TAGS,
            "status_tags": STATUS_TAGS,
        },
        principal=principal,
        status_code=status_code,
    )


async def _act(
    request: Request,
    principal: Principal,
    c: ContainerDep,
    alert_id: int,
    action: Callable[[Any], AlertChange],
) -> Response:
    def work() -> AlertChange:
        with writing(c) as uow:
            change = action(uow)
            uow.commit()
            return change

    try:
        change = await asyncio.to_thread(work)
    except ValidationError as exc:

        def reload() -> dict[str, Any]:
            with c.uow() as uow:
                return service.get_alert(uow, principal, alert_id)

        alert = await asyncio.to_thread(reload)
        errors = [{"field": e.field, "reason": e.reason} for e in exc.errors]
        return _detail(request, principal, alert, errors, status_code=422)
    await publish_changes(c, [change])
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(
    alert_id: int,
    request: Request,
    principal: PagePrincipal,
    c: ContainerDep,
    note: str = Form(""),
) -> Response:
    return await _act(
        request,
        principal,
        c,
        alert_id,
        lambda uow: service.acknowledge(uow, principal, alert_id, note),
    )


@router.post("/alerts/{alert_id}/escalate")
async def escalate(
    alert_id: int,
    request: Request,
    principal: PagePrincipal,
    c: ContainerDep,
    note: str = Form(""),
) -> Response:
    ctx = context(c)
    return await _act(
        request,
        principal,
        c,
        alert_id,
        lambda uow: service.escalate(uow, principal, alert_id, note, ctx),
    )


@router.post("/alerts/{alert_id}/resolve")
async def resolve(
    alert_id: int,
    request: Request,
    principal: PagePrincipal,
    c: ContainerDep,
    outcome: str = Form(""),
    note: str = Form(""),
) -> Response:
    return await _act(
        request,
        principal,
        c,
        alert_id,
        lambda uow: service.resolve(uow, principal, alert_id, outcome, note),
    )


@router.post("/alerts/{alert_id}/notes")
async def add_note(
    alert_id: int,
    request: Request,
    principal: PagePrincipal,
    c: ContainerDep,
    note: str = Form(""),
) -> Response:
    return await _act(
        request,
        principal,
        c,
        alert_id,
        lambda uow: service.add_note(uow, principal, alert_id, note),
    )
