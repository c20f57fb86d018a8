"""The order editor's form values: its fields and defaults, the values of an existing order (for
a variation), and the values a submitted form holds. Strings in, strings out; no validation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from vigil.orders.curfew_days import DAY_NAMES, copy_day_to_all, days_from_rows
from vigil.orders.model import Condition, ConditionType, Pilot
from vigil.orders.service import OrderView

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
Days = dict[str, tuple[str, str] | None]
# The editor form's fields by name, each as the text the form holds (HTML forms carry text).
FormValues = dict[str, str]


def defaults() -> FormValues:
    values: FormValues = dict.fromkeys(FIELDS + DAY_FIELDS, "")
    values.update(
        pilot=Pilot.DA_LICENCE.value,
        curfew_radius="60",
        curfew_grace="5",
        exclusion_shape="circle",
        exclusion_radius="500",
        exclusion_buffer="250",
        trail="on",
    )
    set_days(values, dict.fromkeys(DAY_NAMES, ("19:00", "07:00")))
    return values


def set_days(values: FormValues, days: Days) -> None:
    """Put a curfew's per-day windows into the form's day rows (a day off keeps its times)."""
    for day, window in days.items():
        values[f"curfew_{day}_on"] = "on" if window else ""
        if window:
            values[f"curfew_{day}_start"], values[f"curfew_{day}_end"] = window


def form_days(values: FormValues) -> Days:
    """The form's day rows as per-day windows; None for a day without curfew."""
    return {
        day: (values[f"curfew_{day}_start"], values[f"curfew_{day}_end"])
        if values[f"curfew_{day}_on"]
        else None
        for day in DAY_NAMES
    }


def copy_day(values: FormValues, source: str) -> None:
    """ "Copy Monday to every day" without JavaScript: same form back, days filled in."""
    if source in DAY_NAMES:  # anything else: the form comes back as it was
        set_days(values, copy_day_to_all(form_days(values), source))


def _polygon_text(geometry: dict[str, Any]) -> str:
    ring = geometry["coordinates"][0][:-1]
    return "\n".join(f"{lat:.6f}, {lon:.6f}" for lon, lat in ring)


def _curfew_values(values: FormValues, p: dict[str, Any]) -> None:
    lon, lat = p["geometry"]["coordinates"][:2]
    values.update(
        curfew="on",
        curfew_lat=str(lat),
        curfew_lon=str(lon),
        curfew_radius=f"{p['radius_m']:g}",
        curfew_grace=f"{p.get('grace_s', 0) / 60:g}",
        curfew_address=p.get("address", ""),
    )
    set_days(values, days_from_rows(p["timetable"]))


def _exclusion_values(values: FormValues, p: dict[str, Any]) -> None:
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


def shown_on_form(order: OrderView) -> list[Condition]:
    """The conditions the form shows: the first curfew, the first circle or polygon exclusion
    zone, trail monitoring. Others (proximity, alcohol, more zones) it carries over unchanged."""
    shown = []
    for kind in (ConditionType.CURFEW, ConditionType.EXCLUSION_ZONE, ConditionType.TRAIL):
        first = next((c for c in order.conditions if c.type is kind), None)
        if first is not None and (
            kind is not ConditionType.EXCLUSION_ZONE
            or first.params["geometry"]["type"] in ("Point", "Polygon")
        ):
            shown.append(first)
    return shown


def values_from_order(order: OrderView, tz: ZoneInfo) -> FormValues:
    values = defaults()
    values.update(
        pilot=order.pilot.value,
        starts_on=order.starts_at.astimezone(tz).date().isoformat(),
        # The end date shown is the last whole day of monitoring.
        ends_on=(order.ends_at.astimezone(tz).date() - timedelta(days=1)).isoformat(),
        responsible_officer_id=str(order.responsible_officer_id or ""),
        trail="",
    )
    for condition in shown_on_form(order):
        if condition.type is ConditionType.CURFEW:
            _curfew_values(values, condition.params)
        elif condition.type is ConditionType.EXCLUSION_ZONE:
            _exclusion_values(values, condition.params)
        else:
            values["trail"] = "on"
    return values


def form_values(form: FormData) -> FormValues:
    values: FormValues = dict.fromkeys(FIELDS + DAY_FIELDS, "")
    for key in values:
        raw = form.get(key)
        values[key] = raw.strip() if isinstance(raw, str) else ""
    return values
