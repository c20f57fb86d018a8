"""From the order editor's values to the conditions an order stores, and the orders part's
validation errors back onto the form's inputs (``conditions[1].radius_m`` to
``exclusion_radius``) for the error summary. The orders part's own rules decide what is valid."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vigil.errors import ValidationError
from vigil.orders.curfew_days import DAY_NAMES, rows_from_days
from vigil.orders.editor_values import FormValues, form_days
from vigil.orders.model import ConditionType, TimetableEntry
from vigil.text import ascii_digits, finite_number

Errors = list[tuple[str, str]]
# Where a domain error inside a condition shows on the form.
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
_LABELS = {"curfew": "Curfew", "exclusion": "Exclusion zone"}
_DATE_NAMES = {"starts_on": "Start", "ends_on": "End", "effective_on": "Effective"}


@dataclass
class FormConditions:
    """The form's conditions, the form prefix of each (for its errors), the curfew's rows, and
    the input that shows a problem with the exclusion zone's shape (the corners of a polygon,
    the centre of a circle)."""

    conditions: list[dict[str, Any]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    rows: list[TimetableEntry] = field(default_factory=list)
    shape_field: str = "exclusion_lat"

    def add(self, condition: dict[str, Any], prefix: str) -> None:
        self.conditions.append(condition)
        self.prefixes.append(prefix)


def number(values: FormValues, key: str, label: str, errors: Errors) -> float | None:
    raw = values[key]
    if not raw:
        errors.append((key, f"Enter the {label}"))
        return None
    try:
        return finite_number(raw)
    except ValueError:
        errors.append((key, f"The {label} must be a number"))
        return None


def form_date(values: FormValues, key: str, label: str, errors: Errors) -> date | None:
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
    for number_, line in enumerate(filter(None, (x.strip() for x in text.splitlines())), 1):
        parts = [p for p in re.split(r"[,\s]+", line) if p]
        try:
            lat, lon = float(parts[0]), float(parts[1])
            if len(parts) != 2:
                raise ValueError
        except (ValueError, IndexError):
            errors.append(("exclusion_polygon", f"Corner {number_} must be 'latitude, longitude'"))
            return None
        ring.append([lon, lat])
    if len(ring) < 3:
        errors.append(("exclusion_polygon", "Draw at least 3 corners of the polygon on the map"))
        return None
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _curfew(values: FormValues, out: FormConditions, errors: Errors) -> None:
    lat = number(values, "curfew_lat", "curfew address latitude", errors)
    lon = number(values, "curfew_lon", "curfew address longitude", errors)
    radius = number(values, "curfew_radius", "curfew radius", errors)
    grace = number(values, "curfew_grace", "grace period", errors)
    days = form_days(values)
    if not any(days.values()):
        errors.append(("curfew_mon_on", "Choose at least one day for the curfew"))
    out.rows = rows_from_days(days)
    if lat is None or lon is None or radius is None or grace is None or not out.rows:
        return
    item: dict[str, Any] = {
        "type": ConditionType.CURFEW.value,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "radius_m": radius,
        "timetable": out.rows,
        "grace_s": int(grace * 60),
    }
    if values["curfew_address"]:
        item["address"] = values["curfew_address"]
    out.add(item, "curfew")


def _exclusion_shape(values: FormValues, zone: dict[str, Any], errors: Errors) -> None:
    if values["exclusion_shape"] == "polygon":
        polygon = _parse_polygon(values["exclusion_polygon"], errors)
        if polygon is not None:
            zone["geometry"] = polygon
        return
    lat = number(values, "exclusion_lat", "exclusion zone latitude", errors)
    lon = number(values, "exclusion_lon", "exclusion zone longitude", errors)
    radius = number(values, "exclusion_radius", "exclusion zone radius", errors)
    if lat is not None and lon is not None and radius is not None:
        zone["geometry"] = {"type": "Point", "coordinates": [lon, lat]}
        zone["radius_m"] = radius


def _exclusion(values: FormValues, out: FormConditions, errors: Errors) -> None:
    buffer = number(values, "exclusion_buffer", "warning buffer", errors)
    zone: dict[str, Any] = {"type": ConditionType.EXCLUSION_ZONE.value}
    _exclusion_shape(values, zone, errors)
    if "geometry" not in zone or buffer is None:
        return
    zone["buffer_m"] = buffer
    if values["exclusion_label"]:
        zone["label"] = values["exclusion_label"]
    if ascii_digits(values["exclusion_protected"]):
        zone["protected_person_id"] = int(values["exclusion_protected"])
    out.add(zone, "exclusion")


def form_conditions(values: FormValues, errors: Errors) -> FormConditions:
    out = FormConditions()
    if values["curfew"]:
        _curfew(values, out, errors)
    if values["exclusion"]:
        _exclusion(values, out, errors)
        if values["exclusion_shape"] == "polygon":
            out.shape_field = "exclusion_polygon"
    if values["trail"]:
        out.add({"type": ConditionType.TRAIL.value}, "trail")
    return out


def _condition_error(
    prefix: str, suffix: str, reason: str, found: FormConditions
) -> tuple[str, str]:
    """An error inside one of the form's conditions, on the input it is about."""
    label = _LABELS.get(prefix, "Condition")
    rows = found.rows
    timetable = re.match(r"^timetable\[(\d+)\]\.?(start|end|days)?", suffix)
    if timetable and int(timetable.group(1)) < len(rows):
        day = rows[int(timetable.group(1))]["days"][0]
        part = timetable.group(2) if timetable.group(2) in ("start", "end") else "start"
        return f"curfew_{day}_{part}", f"Curfew on {DAY_NAMES[day]}: {part} {reason}"
    if prefix == "exclusion" and suffix.startswith("geometry"):
        return found.shape_field, f"{label} shape: {reason}"
    field_name = "trail" if prefix == "trail" else f"{prefix}_{_SUFFIX.get(suffix, 'lat')}"
    return field_name, f"{label} {suffix.replace('_', ' ')} {reason}".replace("  ", " ")


def form_errors(exc: ValidationError, found: FormConditions) -> Errors:
    """The orders part's errors (``conditions[1].radius_m``) on the form's inputs."""
    out = []
    for error in exc.errors:
        field_name, reason = error.field, error.reason
        inside = re.match(r"^conditions\[(\d+)\]\.?(.*)$", field_name)
        if inside and int(inside.group(1)) < len(found.prefixes):
            prefix = found.prefixes[int(inside.group(1))]
            field_name, reason = _condition_error(prefix, inside.group(2), reason, found)
        elif field_name == "conditions":
            field_name, reason = "curfew", "Choose at least one condition"
        elif field_name in ("starts_at", "ends_at", "effective_at"):
            field_name = field_name.replace("_at", "_on")
            reason = f"{_DATE_NAMES[field_name]} date {reason}"
        else:
            reason = f"{field_name.replace('_', ' ').capitalize()} {reason}"
        out.append((field_name, reason))
    return out
