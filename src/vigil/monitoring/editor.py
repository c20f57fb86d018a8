"""The order editor: create or vary an order with a curfew timetable (a row per day, copy one
day to all) and an exclusion zone placed by postcode, then adjusted on the map as a circle or a
polygon with a warning buffer. Works without JavaScript: "Find" and "Copy" are submit buttons
that come back to the form; the map only makes adjusting quicker.

Saving goes through the orders part's own use cases, so its rules (dates, zone sizes, overlapping
windows) decide; their errors are mapped back onto the form's fields for the error summary.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from vigil.bootstrap import Container
from vigil.errors import ValidationError
from vigil.geo import postcodes
from vigil.monitoring.model import DAY_NAMES, copy_day_to_all, days_from_rows, rows_from_days
from vigil.orders import service as orders
from vigil.orders.model import PILOT_LABELS, ConditionType, OrderDraft, Pilot
from vigil.people import service as people
from vigil.security.model import Principal
from vigil.text import ascii_digits
from vigil.web.params import RowId, finite_number
from vigil.web.templating import render

Errors = list[tuple[str, str]]
FIELDS = (
    "pilot",
    "starts_on",
    "ends_on",
    "responsible_officer_id",
    "effective_on",
    "reason",
    "curfew",
    "curfew_postcode",
    "curfew_lat",
    "curfew_lon",
    "curfew_radius",
    "curfew_grace",
    "curfew_address",
    "exclusion",
    "exclusion_label",
    "exclusion_protected",
    "exclusion_postcode",
    "exclusion_shape",
    "exclusion_lat",
    "exclusion_lon",
    "exclusion_radius",
    "exclusion_polygon",
    "exclusion_buffer",
    "trail",
)
DAY_FIELDS = tuple(f"curfew_{day}_{part}" for day in DAY_NAMES for part in ("on", "start", "end"))
_SUFFIX = {
    "geometry.coordinates": "lat",
    "geometry": "lat",
    "radius_m": "radius",
    "buffer_m": "buffer",
    "grace_s": "grace",
    "protected_person_id": "protected",
    "label": "label",
    "address": "address",
}


def zone_key(c: Container) -> bytes:
    """The key that disguises zones for wearers; derived, so it never needs storing."""
    secret = (c.settings.secret_key or "vigil-development-only").encode()
    return hmac.new(secret, b"vigil.monitoring.wearer-zone", hashlib.sha256).digest()


def defaults() -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(FIELDS + DAY_FIELDS, "")
    values.update(
        pilot=Pilot.DA_LICENCE.value,
        curfew_radius="60",
        curfew_grace="5",
        exclusion_shape="circle",
        exclusion_radius="500",
        exclusion_buffer="250",
        trail="on",
    )
    for day in DAY_NAMES:
        values[f"curfew_{day}_on"] = "on"
        values[f"curfew_{day}_start"] = "19:00"
        values[f"curfew_{day}_end"] = "07:00"
    return values


def _polygon_text(geometry: dict[str, Any]) -> str:
    ring = geometry["coordinates"][0][:-1]
    return "\n".join(f"{lat:.6f}, {lon:.6f}" for lon, lat in ring)


def values_from_order(order: orders.OrderView, tz: ZoneInfo) -> dict[str, Any]:
    values = defaults()
    values.update(
        pilot=order.pilot.value,
        starts_on=order.starts_at.astimezone(tz).date().isoformat(),
        ends_on=(order.ends_at.astimezone(tz).date() - timedelta(days=1)).isoformat(),
        responsible_officer_id=str(order.responsible_officer_id or ""),
        trail="",
    )
    for condition in order.conditions:
        p = condition.params
        if condition.type is ConditionType.CURFEW and not values["curfew"]:
            lon, lat = p["geometry"]["coordinates"][:2]
            values.update(
                curfew="on",
                curfew_lat=str(lat),
                curfew_lon=str(lon),
                curfew_radius=f"{p['radius_m']:g}",
                curfew_grace=f"{p.get('grace_s', 0) / 60:g}",
                curfew_address=p.get("address", ""),
            )
            for day, window in days_from_rows(p["timetable"]).items():
                values[f"curfew_{day}_on"] = "on" if window else ""
                if window:
                    values[f"curfew_{day}_start"], values[f"curfew_{day}_end"] = window
        elif condition.type is ConditionType.EXCLUSION_ZONE and not values["exclusion"]:
            geometry = p["geometry"]
            values.update(
                exclusion="on",
                exclusion_label=p.get("label", ""),
                exclusion_protected=str(p.get("protected_person_id", "")),
                exclusion_buffer=f"{p.get('buffer_m', 0):g}",
            )
            if geometry["type"] == "Point":
                lon, lat = geometry["coordinates"][:2]
                values.update(
                    exclusion_shape="circle",
                    exclusion_lat=str(lat),
                    exclusion_lon=str(lon),
                    exclusion_radius=f"{p['radius_m']:g}",
                )
            elif geometry["type"] == "Polygon":
                values.update(exclusion_shape="polygon", exclusion_polygon=_polygon_text(geometry))
        elif condition.type is ConditionType.TRAIL:
            values["trail"] = "on"
    return values


def _form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(FIELDS + DAY_FIELDS, "")
    for key in values:
        raw = form.get(key)
        values[key] = raw.strip() if isinstance(raw, str) else ""
    return values


def _number(values: dict[str, Any], key: str, label: str, errors: Errors) -> float | None:
    raw = values[key]
    if not raw:
        errors.append((key, f"Enter the {label}"))
        return None
    try:
        return finite_number(raw)
    except ValueError:
        errors.append((key, f"The {label} must be a number"))
        return None


def _date(values: dict[str, Any], key: str, label: str, errors: Errors) -> date | None:
    if not values[key]:
        errors.append((key, f"Enter the {label}"))
        return None
    try:
        return date.fromisoformat(values[key])
    except ValueError:
        errors.append((key, f"The {label} must be a real date, like 2026-12-01"))
        return None


def _parse_polygon(text: str, errors: Errors) -> dict[str, Any] | None:
    """ "lat, lon" per line (what the map writes, and what a person can type) to a GeoJSON ring."""
    ring = []
    for number, line in enumerate(filter(None, (x.strip() for x in text.splitlines())), 1):
        parts = [p for p in re.split(r"[,\s]+", line) if p]
        try:
            lat, lon = float(parts[0]), float(parts[1])
            if len(parts) != 2:
                raise ValueError
        except (ValueError, IndexError):
            errors.append(("exclusion_polygon", f"Corner {number} must be 'latitude, longitude'"))
            return None
        ring.append([lon, lat])
    if len(ring) < 3:
        errors.append(("exclusion_polygon", "Draw at least 3 corners of the polygon on the map"))
        return None
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _place(uow: Any, values: dict[str, Any], prefix: str, errors: Errors) -> None:
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


def _curfew_days(values: dict[str, Any], errors: Errors) -> dict[str, tuple[str, str] | None]:
    days: dict[str, tuple[str, str] | None] = {}
    for day in DAY_NAMES:
        if values[f"curfew_{day}_on"]:
            days[day] = (values[f"curfew_{day}_start"], values[f"curfew_{day}_end"])
        else:
            days[day] = None
    if not any(days.values()):
        errors.append(("curfew_mon_on", "Choose at least one day for the curfew"))
    return days


def _conditions(values: dict[str, Any], errors: Errors) -> tuple[list[Any], list[str], list[Any]]:
    """The form's conditions, the form prefix of each, and the curfew's timetable rows."""
    out: list[Any] = []
    prefixes: list[str] = []
    rows: list[Any] = []
    if values["curfew"]:
        lat = _number(values, "curfew_lat", "curfew address latitude", errors)
        lon = _number(values, "curfew_lon", "curfew address longitude", errors)
        radius = _number(values, "curfew_radius", "curfew radius", errors)
        grace = _number(values, "curfew_grace", "grace period", errors)
        rows = rows_from_days(_curfew_days(values, errors))
        if None not in (lat, lon, radius, grace) and rows:
            assert grace is not None
            item: dict[str, Any] = {
                "type": "curfew",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "radius_m": radius,
                "timetable": rows,
                "grace_s": int(grace * 60),
            }
            if values["curfew_address"]:
                item["address"] = values["curfew_address"]
            out.append(item)
            prefixes.append("curfew")
    if values["exclusion"]:
        buffer = _number(values, "exclusion_buffer", "warning buffer", errors)
        zone: dict[str, Any] = {"type": "exclusion_zone"}
        if values["exclusion_shape"] == "polygon":
            polygon = _parse_polygon(values["exclusion_polygon"], errors)
            if polygon is not None:
                zone["geometry"] = polygon
        else:
            lat = _number(values, "exclusion_lat", "exclusion zone latitude", errors)
            lon = _number(values, "exclusion_lon", "exclusion zone longitude", errors)
            radius = _number(values, "exclusion_radius", "exclusion zone radius", errors)
            if None not in (lat, lon, radius):
                zone["geometry"] = {"type": "Point", "coordinates": [lon, lat]}
                zone["radius_m"] = radius
        if "geometry" in zone and buffer is not None:
            zone["buffer_m"] = buffer
            if values["exclusion_label"]:
                zone["label"] = values["exclusion_label"]
            if ascii_digits(values["exclusion_protected"]):
                zone["protected_person_id"] = int(values["exclusion_protected"])
            out.append(zone)
            prefixes.append("exclusion")
    if values["trail"]:
        out.append({"type": "trail"})
        prefixes.append("trail")
    return out, prefixes, rows


def _form_errors(exc: ValidationError, prefixes: list[str], rows: list[Any]) -> Errors:
    out = []
    for error in exc.errors:
        field, reason = error.field, error.reason
        found = re.match(r"^conditions\[(\d+)\]\.?(.*)$", field)
        if found and int(found.group(1)) < len(prefixes):
            prefix, suffix = prefixes[int(found.group(1))], found.group(2)
            label = {"curfew": "Curfew", "exclusion": "Exclusion zone"}.get(prefix, "Condition")
            timetable = re.match(r"^timetable\[(\d+)\]\.?(start|end|days)?", suffix)
            if timetable and int(timetable.group(1)) < len(rows):
                day = rows[int(timetable.group(1))]["days"][0]
                part = timetable.group(2) if timetable.group(2) in ("start", "end") else "start"
                field = f"curfew_{day}_{part}"
                reason = f"Curfew on {DAY_NAMES[day]}: {part} {reason}"
            elif prefix == "exclusion" and suffix.startswith("geometry") and rows is not None:
                field = "exclusion_polygon" if "coordinates" in suffix else "exclusion_lat"
                reason = f"{label} shape: {reason}"
            else:
                field = "trail" if prefix == "trail" else f"{prefix}_{_SUFFIX.get(suffix, 'lat')}"
                reason = f"{label} {suffix.replace('_', ' ')} {reason}".replace("  ", " ")
        elif field == "conditions":
            field, reason = "curfew", "Choose at least one condition"
        elif field in ("starts_at", "ends_at", "effective_at"):
            field = field.replace("_at", "_on")
            name = {"starts_on": "Start", "ends_on": "End", "effective_on": "Effective"}[field]
            reason = f"{name} date {reason}"
        else:
            reason = f"{field.replace('_', ' ').capitalize()} {reason}"
        out.append((field, reason))
    return out


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def render_form(
    request: Request,
    principal: Principal,
    c: Container,
    person_id: RowId,
    order: orders.OrderView | None,
    values: dict[str, Any],
    errors: Errors,
    *,
    status_code: int = 200,
) -> Response:
    with c.uow() as uow:
        person = people.get_person(uow, principal, person_id)
        officers = people.list_officers(uow, person.managing_team_id)
        protected = people.protected_person_refs(uow, person_id)
        loaded = postcodes.count(uow)
    return render(
        request,
        "monitoring/order_form.html",
        {
            "person": person,
            "officers": officers,
            "protected": protected,
            "pilots": [(p.value, PILOT_LABELS[p]) for p in Pilot],
            "days": DAY_NAMES,
            "order": order,
            "values": values,
            "errors": errors,
            "postcodes_loaded": loaded,
            "map_json": json.dumps({"values": values}).replace("</", "<\\/"),
        },
        principal=principal,
        status_code=status_code,
    )


def submit(
    request: Request,
    principal: Principal,
    c: Container,
    person_id: RowId,
    order: orders.OrderView | None,
    form: FormData,
) -> Response:
    values = _form_values(form)
    errors: Errors = []
    action = str(form.get("action") or "save")
    copy_from = str(form.get("copy_from") or "")
    with c.uow() as uow:
        if values["exclusion"] or action == "find_exclusion":
            _place(uow, values, "exclusion", errors)
        if values["curfew"] or action == "find_curfew":
            _place(uow, values, "curfew", errors)
    if copy_from:
        # "Copy Monday to every day" without JavaScript: same form back, days filled in.
        days = _curfew_days(values, [])
        try:
            copied = copy_day_to_all(days, copy_from)
        except ValueError:
            copied = days
        for day, window in copied.items():
            values[f"curfew_{day}_on"] = "on" if window else ""
            if window:
                values[f"curfew_{day}_start"], values[f"curfew_{day}_end"] = window
        return render_form(request, principal, c, person_id, order, values, errors)
    if action.startswith("find_"):
        return render_form(
            request, principal, c, person_id, order, values, errors,
            status_code=400 if errors else 200,
        )  # fmt: skip
    tz = c.settings.tz
    ends = _date(values, "ends_on", "end date", errors)
    if order is None:
        starts = _date(values, "starts_on", "start date", errors)
    else:
        starts = _date(values, "effective_on", "date the variation takes effect", errors)
    conditions_in, prefixes, rows = _conditions(values, errors)
    if not errors and starts and ends:
        try:
            with c.uow() as uow:
                if order is None:
                    officer = values["responsible_officer_id"]
                    draft = OrderDraft(
                        person_id=person_id,
                        pilot=values["pilot"],
                        starts_at=_midnight(starts, tz),
                        ends_at=_midnight(ends + timedelta(days=1), tz),
                        responsible_officer_id=int(officer) if ascii_digits(officer) else None,
                        conditions=conditions_in,
                    )
                    order_id = orders.create_order(uow, principal, draft)
                else:
                    order_id = order.id
                    orders.vary_order(
                        uow,
                        principal,
                        order.id,
                        conditions_in=conditions_in + _kept(order),
                        effective_at=max(_midnight(starts, tz), c.clock.now()),
                        reason=values["reason"],
                        ends_at=_midnight(ends + timedelta(days=1), tz),
                    )
            return RedirectResponse(f"/orders/{order_id}", status_code=303)
        except ValidationError as exc:
            errors = _form_errors(exc, prefixes, rows)
    return render_form(request, principal, c, person_id, order, values, errors, status_code=400)


def _kept(order: orders.OrderView) -> list[dict[str, Any]]:
    """Conditions the form does not show are carried over unchanged into a variation."""
    shown: set[int] = set()
    for kind in (ConditionType.CURFEW, ConditionType.EXCLUSION_ZONE, ConditionType.TRAIL):
        first = next((c for c in order.conditions if c.type is kind), None)
        if first is not None and (
            kind is not ConditionType.EXCLUSION_ZONE
            or first.params["geometry"]["type"] in ("Point", "Polygon")
        ):
            shown.add(first.id)
    return [{**c.params} for c in order.conditions if c.id not in shown]
