"""Pages for the monitoring centre, probation and police: the live alert queue, one alert with
its map and call protocol, and the acknowledge / claim / escalate / resolve / call actions.

Entry points only translate: read the form, call a use case, render or redirect. The old
``/monitoring/...`` addresses answer a redirect here, so bookmarks and e-mailed links still work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from vigil.alerts import alert_reads, lifecycle, review
from vigil.alerts import queue as alert_queue
from vigil.alerts.calls import call_steps
from vigil.alerts.chime import critical_alert_chime
from vigil.alerts.kind_labels import KIND_LABELS, kind_label
from vigil.alerts.model import (
    TOP_ESCALATION_LEVEL,
    AlertChange,
    Outcome,
)
from vigil.bootstrap import Container
from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.security import permissions
from vigil.security.alert_preferences import alert_preferences
from vigil.security.model import Principal
from vigil.tracking.trail_map import map_json
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.params import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

NAVIGATION = [
    NavItem(
        "Alert queue",
        "/alerts/queue",
        permissions.ALERTS_WORK,
        "Open alerts as they happen, most urgent first.",
    ),
]
OUTCOME_LABELS = {
    Outcome.GENUINE_VIOLATION: "Genuine violation",
    Outcome.FALSE_ALERT: "False alert",
    Outcome.TECHNICAL_FAULT: "Technical fault",
    Outcome.AUTHORISED: "Authorised (expected)",
    Outcome.DUPLICATE: "Duplicate",
}
ACTIONS = ("acknowledge", "claim", "escalate", "resolve", "call")
# The form prefix of each action's inputs ("ack_note"), for putting an error next to its input.
_FIELD_PREFIX = {"acknowledge": "ack"}
_FIELD_LABELS = {"outcome": "Outcome", "note": "Note", "status": "Status"}


# --- the live queue --------------------------------------------------------------------------


@router.get("/alerts/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    principal: PagePrincipal,
    c: ContainerDep,
    region: str = "",
    force: str = "",
    team: str = "",
    kind: str = "",
    partial: bool = False,
) -> Response:
    flt = alert_queue.QueueFilter(region=region, force=force, team=team, kind=kind)
    with c.uow() as uow:
        view = alert_queue.queue(uow, principal, flt, c.clock.now())
        chosen = alert_preferences(uow, principal)
    template = "alerts/_queue_rows.html" if partial else "alerts/queue.html"
    values = {
        "view": view,
        "flt": flt,
        "severities": alert_queue.SEVERITY_ORDER,
        "labels": KIND_LABELS,
        "notify": chosen,
    }
    return render(request, template, values, principal=principal)


@router.get("/alerts/sounds/critical.wav")
def critical_alert_sound(principal: PagePrincipal) -> Response:
    """The queue's chime for a new critical alert (made in code: vigil.alerts.chime)."""
    return Response(
        critical_alert_chime(),
        media_type="audio/wav",
        headers={"cache-control": "private, max-age=86400"},
    )


# --- one alert -------------------------------------------------------------------------------


def _alert_context(c: Container, principal: Principal, alert_id: int) -> dict[str, Any]:
    with c.uow() as uow:
        page = review.alert_page(uow, principal, c.cipher, alert_id, c.clock.now())
        uow.commit()  # the audited trail view and protected persons' names
    alert = page.alert
    map_data = {
        "zones": page.zones,
        "trail": page.trail,
        "alert": {"lat": alert["lat"], "lon": alert["lon"], "condition_id": alert["condition_id"]},
        "highlight": page.condition["id"] if page.condition else None,
    }
    return {
        "page": page,
        "alert": alert,
        "what": kind_label(alert["kind"]),
        "map_json": map_json(map_data),
        "outcomes": OUTCOME_LABELS,
        "call_steps": call_steps(alert["kind"]),
        "top_escalation_level": TOP_ESCALATION_LEVEL,
        "can_resolve": principal.may(permissions.ALERTS_RESOLVE),
        "can_see_details": principal.may(permissions.PROTECTED_DETAILS),
        "tz": c.settings.tz,
    }


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    values = {**_alert_context(c, principal, alert_id), "errors": [], "values": {}}
    return render(request, "alerts/alert.html", values, principal=principal)


# --- acting on an alert ----------------------------------------------------------------------


async def _act(c: Container, work: Callable[[UnitOfWork], AlertChange]) -> None:
    """Run one change in its own unit of work, commit it, then tell the live streams."""

    def run() -> AlertChange:
        with c.uow() as uow:
            change = work(uow)
            uow.commit()
            return change

    change = await asyncio.to_thread(run)
    await c.alerts.publish_changes([change])


def _call_note(c: Container, principal: Principal, alert_id: int, form: FormData) -> str:
    """The call protocol's ticked steps and note as one timeline note."""
    note = str(form.get("note") or "").strip()
    with c.uow() as uow:
        steps = call_steps(alert_reads.get_alert(uow, principal, alert_id)["kind"])
    done = [label for key, label in steps if form.get(f"call_{key}")]
    if not done and not note:
        raise ValidationError(f"call_{steps[0][0]}", "Tick what was done, or add a note")
    return "Call protocol: " + "; ".join(done) + (f". {note}" if note else "")


async def _perform(
    c: Container, principal: Principal, alert_id: int, action: str, form: FormData
) -> None:
    note = str(form.get("note") or "").strip() or None
    if action == "acknowledge":
        await _act(c, lambda uow: lifecycle.acknowledge(uow, principal, alert_id, note))
    elif action == "claim":
        await _act(c, lambda uow: lifecycle.claim(uow, principal, alert_id))
    elif action == "escalate":
        ctx = c.alerts.context
        await _act(c, lambda uow: lifecycle.escalate(uow, principal, alert_id, note, ctx))
    elif action == "resolve":
        outcome = str(form.get("outcome") or "").strip() or None
        await _act(c, lambda uow: lifecycle.resolve(uow, principal, alert_id, outcome, note))
    else:
        text = _call_note(c, principal, alert_id, form)
        await _act(c, lambda uow: lifecycle.add_note(uow, principal, alert_id, text))


def _form_errors(exc: ValidationError, action: str) -> list[tuple[str, str]]:
    """The use case's field names (note, outcome) to this action's inputs on the page."""
    prefix = _FIELD_PREFIX.get(action, action)
    errors = []
    for error in exc.errors:
        field = error.field
        if field in ("note", "outcome"):
            field = f"{prefix}_{field}"
        elif field == "status":
            field = f"{prefix}-button"
        label = _FIELD_LABELS.get(error.field, "")
        reason = error.reason
        if label and not reason[:1].isupper():
            reason = f"{label} {reason}"
        errors.append((field, reason))
    return errors


async def _alert_action(
    request: Request, alert_id: int, principal: Principal, c: Container, action: str
) -> Response:
    form = await request.form()
    try:
        await _perform(c, principal, alert_id, action, form)
    except ValidationError as exc:
        values = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
        page = {
            **_alert_context(c, principal, alert_id),
            "errors": _form_errors(exc, action),
            "values": values,
        }
        return render(request, "alerts/alert.html", page, principal=principal, status_code=400)
    return RedirectResponse(f"/alerts/{alert_id}?done={action}", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge", response_class=HTMLResponse)
async def acknowledge(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    return await _alert_action(request, alert_id, principal, c, "acknowledge")


@router.post("/alerts/{alert_id}/claim", response_class=HTMLResponse)
async def claim(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    """Take the alert: who holds it is shown in the queue and on the alert to everyone."""
    return await _alert_action(request, alert_id, principal, c, "claim")


@router.post("/alerts/{alert_id}/escalate", response_class=HTMLResponse)
async def escalate(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    return await _alert_action(request, alert_id, principal, c, "escalate")


@router.post("/alerts/{alert_id}/resolve", response_class=HTMLResponse)
async def resolve(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    return await _alert_action(request, alert_id, principal, c, "resolve")


@router.post("/alerts/{alert_id}/call", response_class=HTMLResponse)
async def call_protocol(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    return await _alert_action(request, alert_id, principal, c, "call")


# --- the old addresses -----------------------------------------------------------------------


def _moved(request: Request, path: str) -> RedirectResponse:
    """308 keeps the method and body, so an old form posted to an old address still works."""
    query = request.url.query
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=308)


@router.get("/monitoring/queue", response_class=HTMLResponse)
def old_queue(request: Request, principal: PagePrincipal) -> Response:
    return _moved(request, "/alerts/queue")


@router.get("/monitoring/alerts/{alert_id}", response_class=HTMLResponse)
def old_alert(request: Request, alert_id: RowId, principal: PagePrincipal) -> Response:
    return _moved(request, f"/alerts/{alert_id}")


def _old_action_route(action: str) -> None:
    async def moved(request: Request, alert_id: RowId, principal: PagePrincipal) -> Response:
        return _moved(request, f"/alerts/{alert_id}/{action}")

    router.add_api_route(
        f"/monitoring/alerts/{{alert_id}}/{action}", moved, methods=["POST"], name=f"old_{action}"
    )


for _action in ACTIONS:
    _old_action_route(_action)
