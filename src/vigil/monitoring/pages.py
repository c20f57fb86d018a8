"""Pages for the monitoring centre, probation and police: the live queue, an alert, caseload
status, a person's map and trail, what the wearer is shown, and the order editor.

Entry points only translate: read the form, call a use case, render or redirect.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from vigil.alerts import service as alerts
from vigil.alerts.model import ALERT_ROLES, RESOLVE_ROLES, TOP_ESCALATION_LEVEL, Outcome
from vigil.bootstrap import Container
from vigil.errors import ValidationError
from vigil.geo import postcodes
from vigil.monitoring import editor, model, service
from vigil.orders import service as orders
from vigil.orders.model import PILOT_LABELS
from vigil.security.model import REGISTRY_ROLES, Principal, Role
from vigil.web.auth import ContainerDep, PagePrincipal, require_roles
from vigil.web.navigation import NavItem
from vigil.web.params import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

QUEUE_ROLES = frozenset(ALERT_ROLES)
NAVIGATION = [
    NavItem(
        "Alert queue",
        "/monitoring/queue",
        QUEUE_ROLES,
        "Open alerts as they happen, most urgent first.",
    ),
    NavItem(
        "Caseload status",
        "/monitoring/caseload",
        frozenset({Role.PROBATION_OFFICER, Role.MONITORING_OPERATOR, Role.ADMIN}),
        "Your wearers: compliant, open alerts, device issues, next curfew, last fix.",
    ),
]
OUTCOME_LABELS = {
    Outcome.GENUINE_VIOLATION: "Genuine violation",
    Outcome.FALSE_ALERT: "False alert",
    Outcome.TECHNICAL_FAULT: "Technical fault",
    Outcome.AUTHORISED: "Authorised (expected)",
    Outcome.DUPLICATE: "Duplicate",
}
MAX_PLAYBACK = timedelta(days=31)


def _json(value: Any) -> str:
    # Safe inside <script type="application/json">: no "</" can close the element early.
    return json.dumps(value, separators=(",", ":"), default=str).replace("</", "<\\/")


# --- the live queue --------------------------------------------------------------------------


@router.get("/monitoring/queue", response_class=HTMLResponse)
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
    require_roles(principal, *QUEUE_ROLES)
    flt = service.QueueFilter(region=region, force=force, team=team, kind=kind)
    with c.uow() as uow:
        view = service.queue(uow, principal, flt, c.clock.now())
    template = "monitoring/_queue_rows.html" if partial else "monitoring/queue.html"
    return render(
        request,
        template,
        {"view": view, "flt": flt, "severities": model.SEVERITY_ORDER, "labels": model.KIND_LABELS},
        principal=principal,
    )


# --- one alert -------------------------------------------------------------------------------


def _alert_context(c: Container, principal: Principal, alert_id: RowId) -> dict[str, Any]:
    with c.uow() as uow:
        page = service.alert_page(uow, principal, alert_id, c.clock.now())
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
        "what": model.KIND_LABELS.get(alert["kind"], alert["kind"].replace("_", " ")),
        "map_json": _json(map_data),
        "outcomes": OUTCOME_LABELS,
        "call_steps": model.call_steps(alert["kind"]),
        "top_escalation_level": TOP_ESCALATION_LEVEL,
        "can_resolve": principal.role in RESOLVE_ROLES,
        "can_see_details": principal.role
        in (Role.MONITORING_OPERATOR, Role.PROBATION_OFFICER, Role.POLICE),
        "tz": c.settings.tz,
    }


@router.get("/monitoring/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    require_roles(principal, *QUEUE_ROLES)
    context_values = _alert_context(c, principal, alert_id)
    return render(
        request,
        "monitoring/alert.html",
        {**context_values, "errors": [], "values": {}},
        principal=principal,
    )


async def _act(c: Container, work: Any) -> None:
    def run() -> Any:
        with c.uow() as uow:
            change = work(uow)
            uow.commit()
            return change

    change = await asyncio.to_thread(run)
    await c.alerts.publish_changes([change])


async def _alert_action(
    request: Request, alert_id: RowId, principal: Principal, c: Container, action: str
) -> Response:
    require_roles(principal, *QUEUE_ROLES)
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    note = values.get("note") or None
    ctx = c.alerts.context
    try:
        if action == "acknowledge":
            await _act(c, lambda uow: alerts.acknowledge(uow, principal, alert_id, note))
        elif action == "claim":
            await _act(c, lambda uow: alerts.claim(uow, principal, alert_id))
        elif action == "escalate":
            await _act(c, lambda uow: alerts.escalate(uow, principal, alert_id, note, ctx))
        elif action == "resolve":
            outcome = values.get("outcome") or None
            await _act(c, lambda uow: alerts.resolve(uow, principal, alert_id, outcome, note))
        else:
            with c.uow() as uow:
                steps = model.call_steps(alerts.get_alert(uow, principal, alert_id)["kind"])
            done = [label for key, label in steps if form.get(f"call_{key}")]
            if not done and not note:
                raise ValidationError(f"call_{steps[0][0]}", "Tick what was done, or add a note")
            text = "Call protocol: " + "; ".join(done) + (f". {note}" if note else "")
            await _act(c, lambda uow: alerts.add_note(uow, principal, alert_id, text))
    except ValidationError as exc:
        prefix = {
            "acknowledge": "ack",
            "claim": "claim",
            "escalate": "escalate",
            "resolve": "resolve",
        }.get(action, "call")
        errors = []
        for error in exc.errors:
            field = error.field
            if field in ("note", "outcome"):
                field = f"{prefix}_{field}"
            elif field == "status":
                field = f"{prefix}-button"
            label = {"outcome": "Outcome", "note": "Note", "status": "Status"}.get(error.field, "")
            reason = error.reason
            if label and not reason[:1].isupper():
                reason = f"{label} {reason}"
            errors.append((field, reason))
        context_values = _alert_context(c, principal, alert_id)
        return render(
            request,
            "monitoring/alert.html",
            {**context_values, "errors": errors, "values": values},
            principal=principal,
            status_code=400,
        )
    return RedirectResponse(f"/monitoring/alerts/{alert_id}?done={action}", status_code=303)


@router.post("/monitoring/alerts/{alert_id}/acknowledge", response_class=HTMLResponse)
async def acknowledge(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    return await _alert_action(request, alert_id, principal, c, "acknowledge")


@router.post("/monitoring/alerts/{alert_id}/claim", response_class=HTMLResponse)
async def claim(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    """Take the alert: who holds it is shown in the queue and on the alert to everyone."""
    return await _alert_action(request, alert_id, principal, c, "claim")


@router.post("/monitoring/alerts/{alert_id}/escalate", response_class=HTMLResponse)
async def escalate(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    return await _alert_action(request, alert_id, principal, c, "escalate")


@router.post("/monitoring/alerts/{alert_id}/resolve", response_class=HTMLResponse)
async def resolve(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    return await _alert_action(request, alert_id, principal, c, "resolve")


@router.post("/monitoring/alerts/{alert_id}/call", response_class=HTMLResponse)
async def call_protocol(
    request: Request, alert_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    return await _alert_action(request, alert_id, principal, c, "call")


# --- caseload status -------------------------------------------------------------------------


@router.get("/monitoring/caseload", response_class=HTMLResponse)
def caseload_page(request: Request, principal: PagePrincipal, c: ContainerDep) -> Response:
    require_roles(principal, *REGISTRY_ROLES)
    with c.uow() as uow:
        rows = service.caseload(uow, principal, c.clock.now(), c.settings.tz)
    counts = {
        status: sum(1 for r in rows if r["status"] is status) for status in model.CASELOAD_ORDER
    }
    return render(
        request,
        "monitoring/caseload.html",
        {
            "rows": rows,
            "counts": counts,
            "labels": model.STATUS_LABELS,
            "tags": model.STATUS_TAGS,
            "tz": c.settings.tz,
        },
        principal=principal,
    )


# --- a person's map and trail ----------------------------------------------------------------


def _local(raw: str, field: str, c: Container, errors: list[tuple[str, str]]) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        errors.append((field, "Enter a date and time, like 2026-11-23T09:00"))
        return None
    return value if value.tzinfo else value.replace(tzinfo=c.settings.tz)


@router.get("/monitoring/persons/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request,
    person_id: RowId,
    principal: PagePrincipal,
    c: ContainerDep,
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
    reason: str = "",
) -> Response:
    require_roles(principal, *REGISTRY_ROLES)
    now = c.clock.now()
    errors: list[tuple[str, str]] = []
    window = None
    asked = bool(start or end or reason)
    if asked:
        begins = _local(start, "from", c, errors)
        ends = _local(end, "to", c, errors)
        if begins and ends:
            if ends <= begins:
                errors.append(("to", "The end must be after the start"))
            elif ends - begins > MAX_PLAYBACK:
                errors.append(("to", "Show at most 31 days at once"))
            else:
                window = (begins, ends)
        if len(reason.strip()) < 5:
            errors.append(("reason", "Say why you are viewing this trail (at least 5 characters)"))
        if errors:
            window = None
    with c.uow() as uow:
        try:
            found = service.person_map(uow, principal, person_id, window, reason)
        except ValidationError as exc:
            errors += [(e.field if e.field != "start" else "from", e.reason) for e in exc.errors]
            found = service.person_map(uow, principal, person_id, None, None)
    tz = c.settings.tz
    default_from = (now - timedelta(days=1)).astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    default_to = now.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    return render(
        request,
        "monitoring/person.html",
        {
            "m": found,
            "person": found.person,
            "map_json": _json({"zones": found.zones, "trail": found.trail}),
            "values": {
                "from": start or default_from,
                "to": end or default_to,
                "reason": reason,
            },
            "errors": errors,
            "pilot_labels": PILOT_LABELS,
            "labels": model.KIND_LABELS,
            "can_write": principal.role in (Role.ADMIN, Role.PROBATION_OFFICER),
            "tz": tz,
        },
        principal=principal,
        status_code=400 if errors else 200,
    )


@router.get("/monitoring/persons/{person_id}/wearer-view", response_class=HTMLResponse)
def wearer_view_page(
    request: Request, person_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    """What the wearer is shown of their zones (for the leaflet and the induction)."""
    require_roles(principal, *REGISTRY_ROLES)
    with c.uow() as uow:
        found = service.person_map(uow, principal, person_id, None, None)
    conditions = [
        {"type": c_.type.value, "id": c_.id, **c_.params}
        for o in found.orders
        if o.status.value == "active"
        for c_ in o.conditions
    ]
    shown = model.wearer_view(editor.zone_key(c), conditions)
    curfews = [z for z in found.zones if z["type"] == "curfew"]
    return render(
        request,
        "monitoring/wearer_view.html",
        {
            "person": found.person,
            "shown": shown,
            "map_json": _json(
                {
                    "zones": [
                        {"type": "wearer", "label": s.label, "geometry": s.geometry} for s in shown
                    ]
                    + curfews,
                    "trail": None,
                }
            ),
        },
        principal=principal,
    )


# --- postcode look-up for the order editor ---------------------------------------------------


@router.get("/monitoring/postcodes/{postcode}")
def postcode_lookup(postcode: str, principal: PagePrincipal, c: ContainerDep) -> Response:
    require_roles(principal, Role.ADMIN, Role.PROBATION_OFFICER)
    try:
        with c.uow() as uow:
            found = postcodes.geocode(uow, postcode)
    except ValidationError as exc:
        return JSONResponse({"detail": [{"field": "postcode", "reason": exc.reason}]}, 422)
    return JSONResponse({"postcode": found.display, "lat": found.lat, "lon": found.lon})


# --- the order editor ------------------------------------------------------------------------


@router.get("/monitoring/persons/{person_id}/orders/new", response_class=HTMLResponse)
def new_order(
    request: Request, person_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    require_roles(principal, Role.ADMIN, Role.PROBATION_OFFICER)
    return editor.render_form(request, principal, c, person_id, None, editor.defaults(), [])


@router.post("/monitoring/persons/{person_id}/orders/new", response_class=HTMLResponse)
async def create_order(
    request: Request, person_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    require_roles(principal, Role.ADMIN, Role.PROBATION_OFFICER)
    form = await request.form()
    return editor.submit(request, principal, c, person_id, None, form)


@router.get("/monitoring/orders/{order_id}/vary", response_class=HTMLResponse)
def vary_order(
    request: Request, order_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    require_roles(principal, Role.ADMIN, Role.PROBATION_OFFICER)
    with c.uow() as uow:
        order = orders.get_order(uow, principal, order_id)
    values = editor.values_from_order(order, c.settings.tz)
    values["effective_on"] = c.clock.now().astimezone(c.settings.tz).date().isoformat()
    return editor.render_form(request, principal, c, order.person_id, order, values, [])


@router.post("/monitoring/orders/{order_id}/vary", response_class=HTMLResponse)
async def vary_order_submit(
    request: Request, order_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    require_roles(principal, Role.ADMIN, Role.PROBATION_OFFICER)
    with c.uow() as uow:
        order = orders.get_order(uow, principal, order_id)
    form = await request.form()
    return editor.submit(request, principal, c, order.person_id, order, form)
