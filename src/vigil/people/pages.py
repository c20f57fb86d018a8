"""Staff pages: the caseload with each wearer's status, a person (registry record, orders on a
map, trail playback, devices, violations and alerts), what the wearer is shown of their zones,
and a protected person's details. Each view is audited by the use case it calls.

The old ``/monitoring/...`` addresses of the caseload and the person page answer a redirect here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.alerts.kind_labels import KIND_LABELS
from vigil.bootstrap import Container
from vigil.errors import ValidationError
from vigil.links import story as links_story
from vigil.orders import pilot_screening
from vigil.orders.model import PILOT_LABELS, OrderStatus
from vigil.orders.wearer_view import wearer_view, zone_key
from vigil.people import caseload as caseload_status
from vigil.people import protected_details, reference_data, service
from vigil.people.person_map import PersonMap, person_map
from vigil.security import permissions
from vigil.security.model import Principal
from vigil.tracking.trail_map import map_json
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.params import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

NAVIGATION = [
    NavItem(
        "Caseload",
        "/caseload",
        permissions.PERSONS_READ,
        "Your wearers: compliant, open alerts, device issues, next curfew, last fix.",
    ),
]
RISK_TAGS = {"low": "green", "medium": "yellow", "high": "orange", "very_high": "red"}
MAX_PLAYBACK = timedelta(days=31)
Errors = list[tuple[str, str]]


@router.get("/caseload", response_class=HTMLResponse)
def caseload(request: Request, principal: PagePrincipal, c: ContainerDep) -> Response:
    with c.uow() as uow:
        rows = caseload_status.caseload(uow, principal, c.clock.now(), c.settings.tz)
    counts = {
        status: sum(1 for r in rows if r.status is status)
        for status in caseload_status.CASELOAD_ORDER
    }
    values = {
        "rows": rows,
        "counts": counts,
        "labels": caseload_status.STATUS_LABELS,
        "tags": caseload_status.STATUS_TAGS,
        "risk_tags": RISK_TAGS,
        "pilot_labels": PILOT_LABELS,
        "tz": c.settings.tz,
    }
    return render(request, "people/caseload.html", values, principal=principal)


# --- a person --------------------------------------------------------------------------------


def _local(raw: str, field: str, tz: ZoneInfo, errors: Errors) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        errors.append((field, "Enter a date and time, like 2026-11-23T09:00"))
        return None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _trail_window(
    start: str, end: str, reason: str, tz: ZoneInfo, errors: Errors
) -> tuple[datetime, datetime] | None:
    """The playback window asked for, or None (with errors) if it is not a valid one."""
    window = None
    begins = _local(start, "from", tz, errors)
    ends = _local(end, "to", tz, errors)
    if begins and ends:
        if ends <= begins:
            errors.append(("to", "The end must be after the start"))
        elif ends - begins > MAX_PLAYBACK:
            errors.append(("to", "Show at most 31 days at once"))
        else:
            window = (begins, ends)
    if len(reason.strip()) < 5:
        errors.append(("reason", "Say why you are viewing this trail (at least 5 characters)"))
    return None if errors else window


def _registry_context(c: Container, principal: Principal, found: PersonMap) -> dict[str, Any]:
    """The registry record's parts of the page: protected persons, eligibility, officers."""
    with c.uow() as uow:
        protected = protected_details.named_protected_persons(
            uow, principal, c.cipher, found.person.id
        )
        decisions = pilot_screening.list_decisions(uow, principal, found.person.id)
        officer_names = {o.id: o.name for o in reference_data.list_officers(uow)}
        # His prison contact and matrix place, for the roles that manage him (audited).
        story = (
            links_story.person_story(uow, principal, found.person.id)
            if principal.may(permissions.CROSS_SERVICE_STORY)
            else None
        )
        uow.commit()  # the audited protected persons' names and story
    return {
        "story": story,
        "can_decide_links": principal.may(permissions.PERSON_LINKS_DECIDE),
        "can_find_links": principal.may(permissions.PERSON_LINKS_FIND),
        "protected": protected,
        "decisions": decisions,
        "officer_names": officer_names,
        "risk_tags": RISK_TAGS,
        "pilot_labels": PILOT_LABELS,
        "labels": KIND_LABELS,
        "can_write": principal.may(permissions.ORDERS_WRITE),
        "can_see_details": principal.may(permissions.PROTECTED_DETAILS),
    }


def _playback_values(c: Container, start: str, end: str, reason: str) -> dict[str, str]:
    now, tz = c.clock.now(), c.settings.tz
    return {
        "from": start or (now - timedelta(days=1)).astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "to": end or now.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "reason": reason,
    }


@router.get("/persons/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request,
    person_id: RowId,
    principal: PagePrincipal,
    c: ContainerDep,
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
    reason: str = "",
) -> Response:
    errors: Errors = []
    window = None
    if start or end or reason:
        window = _trail_window(start, end, reason, c.settings.tz, errors)
    with c.uow() as uow:
        try:
            found = person_map(uow, principal, person_id, window, reason)
        except ValidationError as exc:
            errors += [(e.field if e.field != "start" else "from", e.reason) for e in exc.errors]
            found = person_map(uow, principal, person_id, None, None)
        uow.commit()  # the audited trail view
    values = {
        **_registry_context(c, principal, found),
        "m": found, "person": found.person, "errors": errors, "tz": c.settings.tz,
        "map_json": map_json({"zones": found.zones, "trail": found.trail}),
        "values": _playback_values(c, start, end, reason),
    }  # fmt: skip
    status_code = 400 if errors else 200
    return render(
        request, "people/person.html", values, principal=principal, status_code=status_code
    )


@router.get("/persons/{person_id}/wearer-view", response_class=HTMLResponse)
def wearer_view_page(
    request: Request, person_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    """What the wearer is shown of their zones (for the leaflet and the induction)."""
    with c.uow() as uow:
        found = person_map(uow, principal, person_id, None, None)
        uow.commit()  # the audited trail view
    conditions = [
        {"type": condition.type.value, "id": condition.id, **condition.params}
        for order in found.orders
        if order.status is OrderStatus.ACTIVE
        for condition in order.conditions
    ]
    shown = wearer_view(zone_key(c.settings), conditions)
    zones = [{"type": "wearer", "label": s.label, "geometry": s.geometry} for s in shown]
    curfews = [z for z in found.zones if z["type"] == "curfew"]
    values = {
        "person": found.person,
        "shown": shown,
        "map_json": map_json({"zones": zones + curfews, "trail": None}),
    }
    return render(request, "people/wearer_view.html", values, principal=principal)


@router.get("/protected-persons/{protected_id}", response_class=HTMLResponse)
def protected_person_page(
    request: Request, protected_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    with c.uow() as uow:
        found = protected_details.get_protected_person(uow, principal, c.cipher, protected_id)
        person = service.get_person(uow, principal, found.person_id)
        uow.commit()  # the audited view
    return render(
        request,
        "people/protected_person.html",
        {"protected": found, "person": person},
        principal=principal,
    )


# --- the old addresses -----------------------------------------------------------------------


def _moved(request: Request, path: str) -> RedirectResponse:
    query = request.url.query
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=308)


@router.get("/monitoring/caseload", response_class=HTMLResponse)
def old_caseload(request: Request, principal: PagePrincipal) -> Response:
    return _moved(request, "/caseload")


@router.get("/monitoring/persons/{person_id}", response_class=HTMLResponse)
def old_person(request: Request, person_id: RowId, principal: PagePrincipal) -> Response:
    return _moved(request, f"/persons/{person_id}")


@router.get("/monitoring/persons/{person_id}/wearer-view", response_class=HTMLResponse)
def old_wearer_view(request: Request, person_id: RowId, principal: PagePrincipal) -> Response:
    return _moved(request, f"/persons/{person_id}/wearer-view")
