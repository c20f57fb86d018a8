"""Staff pages: an order with its history, and the form to create or vary one.

The form covers what officers set most: a curfew at the home address, an exclusion zone (a
circle around a protected person's home), and trail monitoring. Conditions the form does not show
(polygons, proximity, alcohol) are carried over unchanged when an order is varied here.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from vigil.errors import FieldError, ValidationError
from vigil.orders import service
from vigil.orders.model import DAYS, PILOT_LABELS, ConditionType, OrderDraft, Pilot
from vigil.people import service as people
from vigil.security.model import Principal
from vigil.text import ascii_digits
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.params import RowId, finite_number
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

FORM_TYPES = {ConditionType.CURFEW, ConditionType.EXCLUSION_ZONE, ConditionType.TRAIL}
# Where a domain error inside a condition shows on the form.
_SUFFIX_TO_INPUT = {
    "geometry.coordinates": "lat",
    "geometry": "lat",
    "radius_m": "radius",
    "buffer_m": "buffer",
    "grace_s": "grace",
    "protected_person_id": "protected",
    "timetable[0].start": "start",
    "timetable[0].end": "end",
    "timetable[0].days": "days",
    "timetable": "start",
}


def _defaults() -> dict[str, Any]:
    return {
        "pilot": Pilot.DA_LICENCE.value,
        "starts_on": "",
        "ends_on": "",
        "responsible_officer_id": "",
        "curfew": "",
        "curfew_lat": "",
        "curfew_lon": "",
        "curfew_radius": "60",
        "curfew_start": "19:00",
        "curfew_end": "07:00",
        "curfew_days": list(DAYS),
        "curfew_grace": "5",
        "curfew_address": "",
        "exclusion": "",
        "exclusion_lat": "",
        "exclusion_lon": "",
        "exclusion_radius": "500",
        "exclusion_buffer": "250",
        "exclusion_label": "",
        "exclusion_protected": "",
        "trail": "on",
        "effective_on": "",
        "reason": "",
    }


def _values_from_order(order: service.OrderView, tz: ZoneInfo) -> dict[str, Any]:
    values = _defaults()
    values["pilot"] = order.pilot.value
    values["starts_on"] = order.starts_at.astimezone(tz).date().isoformat()
    values["ends_on"] = (order.ends_at.astimezone(tz).date() - timedelta(days=1)).isoformat()
    values["responsible_officer_id"] = str(order.responsible_officer_id or "")
    values["trail"] = ""
    for condition in order.conditions:
        p = condition.params
        if condition.type is ConditionType.CURFEW and not values["curfew"]:
            row = p["timetable"][0]
            values.update(
                curfew="on",
                curfew_lon=str(p["geometry"]["coordinates"][0]),
                curfew_lat=str(p["geometry"]["coordinates"][1]),
                curfew_radius=f"{p['radius_m']:g}",
                curfew_start=row["start"],
                curfew_end=row["end"],
                curfew_days=row["days"],
                curfew_grace=f"{p.get('grace_s', 0) / 60:g}",
                curfew_address=p.get("address", ""),
            )
        elif (
            condition.type is ConditionType.EXCLUSION_ZONE
            and p["geometry"]["type"] == "Point"
            and not values["exclusion"]
        ):
            values.update(
                exclusion="on",
                exclusion_lon=str(p["geometry"]["coordinates"][0]),
                exclusion_lat=str(p["geometry"]["coordinates"][1]),
                exclusion_radius=f"{p['radius_m']:g}",
                exclusion_buffer=f"{p.get('buffer_m', 0):g}",
                exclusion_label=p.get("label", ""),
                exclusion_protected=str(p.get("protected_person_id", "")),
            )
        elif condition.type is ConditionType.TRAIL:
            values["trail"] = "on"
    return values


def _form_values(form: FormData) -> dict[str, Any]:
    values = _defaults()
    for key in values:
        if key == "curfew_days":
            values[key] = [str(v) for v in form.getlist(key)]
        else:
            raw = form.get(key)
            values[key] = raw.strip() if isinstance(raw, str) else ""
    return values


def _number(values: dict[str, Any], key: str, label: str, errors: list[FieldError]) -> float | None:
    raw = values[key]
    if not raw:
        errors.append(FieldError(key, f"Enter the {label}"))
        return None
    try:
        return finite_number(raw)
    except ValueError:
        errors.append(FieldError(key, f"The {label} must be a number"))
        return None


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def _date(values: dict[str, Any], key: str, label: str, errors: list[FieldError]) -> date | None:
    if not values[key]:
        errors.append(FieldError(key, f"Enter the {label}"))
        return None
    try:
        return date.fromisoformat(values[key])
    except ValueError:
        errors.append(FieldError(key, f"The {label} must be a real date, e.g. 2026-12-01"))
        return None


def _conditions(values: dict[str, Any], errors: list[FieldError]) -> tuple[list[Any], list[str]]:
    """The form's conditions, and for each the form prefix its errors belong to."""
    out: list[Any] = []
    prefixes: list[str] = []
    if values["curfew"]:
        lat = _number(values, "curfew_lat", "curfew address latitude", errors)
        lon = _number(values, "curfew_lon", "curfew address longitude", errors)
        radius = _number(values, "curfew_radius", "curfew radius", errors)
        grace = _number(values, "curfew_grace", "grace period", errors)
        if None not in (lat, lon, radius, grace):
            assert grace is not None
            item: dict[str, Any] = {
                "type": "curfew",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "radius_m": radius,
                "timetable": [
                    {
                        "days": values["curfew_days"],
                        "start": values["curfew_start"],
                        "end": values["curfew_end"],
                    }
                ],
                "grace_s": int(grace * 60),
            }
            if values["curfew_address"]:
                item["address"] = values["curfew_address"]
            out.append(item)
            prefixes.append("curfew")
    if values["exclusion"]:
        lat = _number(values, "exclusion_lat", "exclusion zone latitude", errors)
        lon = _number(values, "exclusion_lon", "exclusion zone longitude", errors)
        radius = _number(values, "exclusion_radius", "exclusion zone radius", errors)
        buffer = _number(values, "exclusion_buffer", "warning buffer", errors)
        if None not in (lat, lon, radius, buffer):
            item = {
                "type": "exclusion_zone",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "radius_m": radius,
                "buffer_m": buffer,
            }
            if values["exclusion_label"]:
                item["label"] = values["exclusion_label"]
            if values["exclusion_protected"]:
                item["protected_person_id"] = int(values["exclusion_protected"])
            out.append(item)
            prefixes.append("exclusion")
    if values["trail"]:
        out.append({"type": "trail"})
        prefixes.append("trail")
    return out, prefixes


def _form_errors(exc: ValidationError, prefixes: list[str]) -> list[tuple[str, str]]:
    """Domain field names (conditions[1].radius_m) to the form's inputs (exclusion_radius)."""
    out = []
    for error in exc.errors:
        field, reason = error.field, error.reason
        found = re.match(r"^conditions\[(\d+)\]\.?(.*)$", field)
        if found and int(found.group(1)) < len(prefixes):
            prefix = prefixes[int(found.group(1))]
            suffix = _SUFFIX_TO_INPUT.get(found.group(2), "lat")
            field = "trail" if prefix == "trail" else f"{prefix}_{suffix}"
            label = {"curfew": "Curfew", "exclusion": "Exclusion zone"}.get(prefix, "Condition")
            reason = f"{label} {found.group(2).replace('_', ' ')} {reason}".replace("  ", " ")
        elif field == "conditions":
            field, reason = "curfew", "Choose at least one condition"
        elif field in ("starts_at", "ends_at"):
            field = field.replace("_at", "_on")
            reason = f"{'Start' if field == 'starts_on' else 'End'} date {reason}"
        else:
            reason = f"{field.replace('_', ' ').capitalize()} {reason}"
        out.append((field, reason))
    return out


def _order_form(
    request: Request,
    principal: Principal,
    c: ContainerDep,
    person_id: RowId,
    order: service.OrderView | None,
    values: dict[str, Any],
    errors: list[tuple[str, str]],
    status_code: int = 200,
) -> Response:
    """The order form, for a new order (order None) or a variation, with the person's officers
    and protected persons to choose from."""
    with c.uow() as uow:
        person = people.get_person(uow, principal, person_id)
        officers = people.list_officers(uow, person.managing_team_id)
        protected = people.protected_person_refs(uow, person_id)
    context = {
        "person": person,
        "officers": officers,
        "protected": protected,
        "pilots": [(p.value, PILOT_LABELS[p]) for p in Pilot],
        "days": DAYS,
        "order": order,
        "values": values,
        "errors": errors,
    }
    return render(
        request, "orders/order_form.html", context, principal=principal, status_code=status_code
    )


@router.get("/persons/{person_id}/orders/new", response_class=HTMLResponse)
def new_order_form(
    request: Request, person_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    return _order_form(request, principal, c, person_id, None, _defaults(), [])


@router.post("/persons/{person_id}/orders/new", response_class=HTMLResponse)
async def create_order(
    request: Request, person_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    values = _form_values(await request.form())
    tz = c.settings.tz
    errors: list[FieldError] = []
    starts = _date(values, "starts_on", "start date", errors)
    ends = _date(values, "ends_on", "end date", errors)
    conditions_in, prefixes = _conditions(values, errors)
    form_errors = [(e.field, e.reason) for e in errors]
    if not form_errors and starts and ends:
        officer = values["responsible_officer_id"]
        draft = OrderDraft(
            person_id=person_id,
            pilot=values["pilot"],
            starts_at=_local_midnight(starts, tz),
            # The end date is the last whole day of monitoring.
            ends_at=_local_midnight(ends + timedelta(days=1), tz),
            responsible_officer_id=int(officer) if ascii_digits(officer) else None,
            conditions=conditions_in,
        )
        try:
            with c.uow() as uow:
                order_id = service.create_order(uow, principal, draft)
            return RedirectResponse(f"/orders/{order_id}", status_code=303)
        except ValidationError as exc:
            form_errors = _form_errors(exc, prefixes)
    return _order_form(request, principal, c, person_id, None, values, form_errors, 400)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(
    request: Request, order_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    with c.uow() as uow:
        order = service.get_order(uow, principal, order_id)
        versions = service.list_versions(uow, principal, order_id)
        person = people.get_person(uow, principal, order.person_id)
        officer = (
            people.get_officer(uow, order.responsible_officer_id)
            if order.responsible_officer_id
            else None
        )
    return render(
        request,
        "orders/order.html",
        {
            "order": order,
            "versions": versions,
            "person": person,
            "officer": officer,
            "pilot_labels": PILOT_LABELS,
        },
        principal=principal,
    )


@router.get("/orders/{order_id}/vary", response_class=HTMLResponse)
def vary_form(
    request: Request, order_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    with c.uow() as uow:
        order = service.get_order(uow, principal, order_id)
    values = _values_from_order(order, c.settings.tz)
    values["effective_on"] = c.clock.now().astimezone(c.settings.tz).date().isoformat()
    return _order_form(request, principal, c, order.person_id, order, values, [])


@router.post("/orders/{order_id}/vary", response_class=HTMLResponse)
async def vary(
    request: Request, order_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    values = _form_values(await request.form())
    tz = c.settings.tz
    with c.uow() as uow:
        order = service.get_order(uow, principal, order_id)
    errors: list[FieldError] = []
    effective = _date(values, "effective_on", "date the variation takes effect", errors)
    ends = _date(values, "ends_on", "end date", errors)
    conditions_in, prefixes = _conditions(values, errors)
    # Conditions the form cannot show are carried over unchanged.
    kept = [
        {**cond.params}
        for cond in order.conditions
        if cond.type not in FORM_TYPES
        or (
            cond.type is ConditionType.EXCLUSION_ZONE and cond.params["geometry"]["type"] != "Point"
        )
    ]
    form_errors = [(e.field, e.reason) for e in errors]
    if not form_errors and effective and ends:
        try:
            with c.uow() as uow:
                service.vary_order(
                    uow,
                    principal,
                    order_id,
                    conditions_in=conditions_in + kept,
                    effective_at=max(_local_midnight(effective, tz), c.clock.now()),
                    reason=values["reason"],
                    ends_at=_local_midnight(ends + timedelta(days=1), tz),
                )
            return RedirectResponse(f"/orders/{order_id}", status_code=303)
        except ValidationError as exc:
            form_errors = _form_errors(exc, prefixes)
    return _order_form(request, principal, c, order.person_id, order, values, form_errors, 400)
