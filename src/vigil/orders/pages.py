"""Staff pages: an order with its history, and the order editor to create or vary one.

The editor sets what officers set most: a curfew at the home address with a timetable (a row
per day, copy one day to all), an exclusion zone placed by postcode and adjusted on the map as a
circle or a polygon with a warning buffer, and trail monitoring. It works without JavaScript:
"Find" and "Copy" are submit buttons that come back to the form; the map only makes adjusting
quicker. Conditions the form does not show (proximity, alcohol, more zones) are carried over
unchanged when an order is varied here. Saving goes through the orders part's own use cases, so
its rules decide; their errors are put back on the form's inputs.

The old ``/monitoring/...`` addresses of the editor answer a redirect here.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from vigil.bootstrap import Container
from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.geo import postcodes
from vigil.geo.zones import MAX_RADIUS_M, MIN_RADIUS_M
from vigil.orders import service
from vigil.orders.curfew_days import DAY_NAMES
from vigil.orders.editor_conditions import Errors, FormConditions, form_conditions, form_date
from vigil.orders.editor_conditions import form_errors as to_form_errors
from vigil.orders.editor_values import (
    FormValues,
    copy_day,
    defaults,
    form_values,
    shown_on_form,
    values_from_order,
)
from vigil.orders.model import PILOT_LABELS, OrderDraft, Pilot
from vigil.orders.zones_map import ZONE_TYPES, zone_json
from vigil.people import protected_details, reference_data
from vigil.people import service as people
from vigil.security.model import Principal
from vigil.text import ascii_digits
from vigil.tracking.trail_map import map_json
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.params import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def _form_page(
    request: Request,
    principal: Principal,
    c: Container,
    person_id: int,
    order: service.OrderView | None,
    values: FormValues,
    errors: Errors,
    status_code: int = 200,
) -> Response:
    """The editor, for a new order (order None) or a variation, with the person's officers and
    protected persons to choose from."""
    with c.uow() as uow:
        person = people.get_person(uow, principal, person_id)
        officers = reference_data.list_officers(uow, person.managing_team_id)
        protected = protected_details.protected_person_refs(uow, person_id)
        loaded = postcodes.count(uow)
    context = {
        "person": person, "officers": officers, "protected": protected, "order": order,
        "pilots": [(p.value, PILOT_LABELS[p]) for p in Pilot], "days": DAY_NAMES,
        "values": values, "errors": errors, "postcodes_loaded": loaded,
        "map_json": map_json({"values": values}),
    }  # fmt: skip
    template = "orders/order_form.html"
    return render(request, template, context, principal=principal, status_code=status_code)


def _place(uow: UnitOfWork, values: FormValues, prefix: str, errors: Errors) -> None:
    """Fill latitude/longitude from the postcode when the map has not placed them yet."""
    postcode = values[f"{prefix}_postcode"]
    if not postcode or (values[f"{prefix}_lat"] and values[f"{prefix}_lon"]):
        return
    try:
        found = postcodes.geocode(uow, postcode, field=f"{prefix}_postcode")
    except ValidationError as exc:
        errors.append((exc.field, exc.reason))
        return
    values[f"{prefix}_postcode"] = found.display
    values[f"{prefix}_lat"] = f"{found.lat:.6f}"
    values[f"{prefix}_lon"] = f"{found.lon:.6f}"


def _place_by_postcode(c: Container, values: FormValues, action: str, errors: Errors) -> None:
    with c.uow() as uow:
        if values["exclusion"] or action == "find_exclusion":
            _place(uow, values, "exclusion", errors)
        if values["curfew"] or action == "find_curfew":
            _place(uow, values, "curfew", errors)


def _kept(order: service.OrderView) -> list[dict[str, Any]]:
    """Conditions the form does not show are carried over unchanged into a variation."""
    shown = {c.id for c in shown_on_form(order)}
    return [{**c.params} for c in order.conditions if c.id not in shown]


def _draft(
    person_id: int, values: FormValues, found: FormConditions, starts: datetime, ends: datetime
) -> OrderDraft:
    officer = values["responsible_officer_id"]
    return OrderDraft(
        person_id=person_id,
        pilot=values["pilot"],
        starts_at=starts,
        ends_at=ends,
        responsible_officer_id=int(officer) if ascii_digits(officer) else None,
        conditions=list(found.conditions),
    )


def _save(
    c: Container,
    principal: Principal,
    person_id: int,
    order: service.OrderView | None,
    values: FormValues,
    found: FormConditions,
    dates: tuple[date, date],
) -> int:
    """Create the order, or vary it; its id. The end date is the last whole day monitored."""
    tz = c.settings.tz
    starts, ends = _midnight(dates[0], tz), _midnight(dates[1] + timedelta(days=1), tz)
    with c.uow() as uow:
        if order is None:
            draft = _draft(person_id, values, found, starts, ends)
            order_id = service.create_order(uow, principal, draft)
        else:
            order_id = order.id
            conditions = found.conditions + _kept(order)
            effective_at = max(starts, c.clock.now())
            service.vary_order(
                uow, principal, order.id, conditions_in=conditions, effective_at=effective_at,
                reason=values["reason"], ends_at=ends,
            )  # fmt: skip
        uow.commit()
    return order_id


def _form_only(
    request: Request,
    principal: Principal,
    c: Container,
    page: tuple[int, service.OrderView | None],
    values: FormValues,
    form: FormData,
    errors: Errors,
) -> Response | None:
    """ "Copy to all days" and "Find" come back to the form without saving; None otherwise."""
    action = str(form.get("action") or "save")
    if form.get("copy_from"):
        copy_day(values, str(form.get("copy_from")))
        return _form_page(request, principal, c, *page, values, errors)
    if action.startswith("find_"):
        status_code = 400 if errors else 200
        return _form_page(request, principal, c, *page, values, errors, status_code)
    return None


async def _submit(
    request: Request,
    principal: Principal,
    c: Container,
    person_id: int,
    order: service.OrderView | None,
) -> Response:
    form: FormData = await request.form()
    values = form_values(form)
    errors: Errors = []
    _place_by_postcode(c, values, str(form.get("action") or "save"), errors)
    shown = _form_only(request, principal, c, (person_id, order), values, form, errors)
    if shown is not None:
        return shown
    if order is None:
        starts = form_date(values, "starts_on", "start date", errors)
    else:
        starts = form_date(values, "effective_on", "date the variation takes effect", errors)
    ends = form_date(values, "ends_on", "end date", errors)
    found = form_conditions(values, errors)
    if not errors and starts and ends:
        try:
            order_id = _save(c, principal, person_id, order, values, found, (starts, ends))
            return RedirectResponse(f"/orders/{order_id}", status_code=303)
        except ValidationError as exc:
            errors = to_form_errors(exc, found)
    return _form_page(request, principal, c, person_id, order, values, errors, 400)


def _get_order(c: Container, principal: Principal, order_id: int) -> service.OrderView:
    with c.uow() as uow:
        return service.get_order(uow, principal, order_id)


@router.get("/persons/{person_id}/orders/new", response_class=HTMLResponse)
def new_order_form(
    request: Request,
    person_id: RowId,
    principal: PagePrincipal,
    c: ContainerDep,
    exclusion_postcode: Annotated[str, Query(max_length=10)] = "",
    exclusion_radius: Annotated[int | None, Query(ge=MIN_RADIUS_M, le=MAX_RADIUS_M)] = None,
) -> Response:
    """A new order; a release plan's proposed zone arrives as an exclusion zone already placed
    at its postcode (the officer adjusts it on the map)."""
    values = defaults()
    errors: Errors = []
    if exclusion_postcode:
        values.update(exclusion="on", exclusion_postcode=exclusion_postcode)
        if exclusion_radius is not None:
            values["exclusion_radius"] = str(exclusion_radius)
        with c.uow() as uow:
            _place(uow, values, "exclusion", errors)
    return _form_page(request, principal, c, person_id, None, values, errors)


@router.post("/persons/{person_id}/orders/new", response_class=HTMLResponse)
async def create_order(
    request: Request, person_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    return await _submit(request, principal, c, person_id, None)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(
    request: Request, order_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    with c.uow() as uow:
        order = service.get_order(uow, principal, order_id)
        versions = service.list_versions(uow, principal, order_id)
        person = people.get_person(uow, principal, order.person_id)
        officer = (
            reference_data.get_officer(uow, order.responsible_officer_id)
            if order.responsible_officer_id
            else None
        )
    zones = [zone_json(c) for c in order.conditions if c.type in ZONE_TYPES]
    context = {
        "order": order,
        "versions": versions,
        "person": person,
        "officer": officer,
        "pilot_labels": PILOT_LABELS,
        "map_json": map_json({"zones": zones}) if zones else None,
    }
    return render(request, "orders/order.html", context, principal=principal)


@router.get("/orders/{order_id}/vary", response_class=HTMLResponse)
def vary_form(
    request: Request, order_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    order = _get_order(c, principal, order_id)
    values = values_from_order(order, c.settings.tz)
    values["effective_on"] = c.clock.now().astimezone(c.settings.tz).date().isoformat()
    return _form_page(request, principal, c, order.person_id, order, values, [])


@router.post("/orders/{order_id}/vary", response_class=HTMLResponse)
async def vary(
    request: Request, order_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    order = _get_order(c, principal, order_id)
    return await _submit(request, principal, c, order.person_id, order)


@router.get("/postcodes/{postcode}")
def postcode_lookup(postcode: str, principal: PagePrincipal, c: ContainerDep) -> Response:
    """Where a postcode is, for the editor's map (JSON)."""
    try:
        with c.uow() as uow:
            found = postcodes.geocode(uow, postcode)
    except ValidationError as exc:
        return JSONResponse({"detail": [{"field": "postcode", "reason": exc.reason}]}, 422)
    return JSONResponse({"postcode": found.display, "lat": found.lat, "lon": found.lon})


# --- the old addresses -----------------------------------------------------------------------


def _moved(request: Request, path: str) -> RedirectResponse:
    """308 keeps the method and body, so a form posted to an old address still saves."""
    query = request.url.query
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=308)


@router.api_route("/monitoring/persons/{person_id}/orders/new", methods=["GET", "POST"])
def old_new_order(request: Request, person_id: RowId, principal: PagePrincipal) -> Response:
    return _moved(request, f"/persons/{person_id}/orders/new")


@router.api_route("/monitoring/orders/{order_id}/vary", methods=["GET", "POST"])
def old_vary(request: Request, order_id: RowId, principal: PagePrincipal) -> Response:
    return _moved(request, f"/orders/{order_id}/vary")


@router.get("/monitoring/postcodes/{postcode}")
def old_postcode_lookup(request: Request, postcode: str, principal: PagePrincipal) -> Response:
    return _moved(request, f"/postcodes/{postcode}")
