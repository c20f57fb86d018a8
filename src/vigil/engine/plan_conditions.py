"""Reading one condition of a monitoring plan into the engine's model. The kinds are the orders
part's ``ConditionType``; the engine enforces zones (exclusion, inclusion, curfew), proximity to
a protected person's device and alcohol readings, and only records a trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from vigil.engine.model import (
    AlcoholCondition,
    EngineSettings,
    ProximityCondition,
    ZoneCondition,
    ZoneKind,
)
from vigil.engine.plan_fields import read_absences, read_number, read_text, read_timetable
from vigil.engine.timetable import AlwaysOn, Timetable
from vigil.errors import ErrorCollector
from vigil.geo.kernels import ZoneShape
from vigil.geo.zones import parse_buffer, parse_zone
from vigil.orders.model import ConditionType

# The orders part's condition kinds, as the engine enforces them: a curfew is an inclusion zone
# with a timetable.
ZONE_TYPES = {
    ConditionType.EXCLUSION_ZONE: ZoneKind.EXCLUSION,
    ConditionType.INCLUSION_ZONE: ZoneKind.INCLUSION,
    ConditionType.CURFEW: ZoneKind.INCLUSION,
}
OTHER_TYPES = (ConditionType.PROXIMITY, ConditionType.ALCOHOL, ConditionType.TRAIL)
EngineCondition = ZoneCondition | ProximityCondition | AlcoholCondition


@dataclass
class PlanReading:
    """What reading one plan carries from person to person."""

    errors: ErrorCollector
    zone: ZoneInfo
    settings: EngineSettings
    device_owner: dict[str, str] = field(default_factory=dict)
    person: str = ""  # the person whose conditions are being read


def _zone_timetable(
    raw: dict[str, Any], kind: ConditionType, zone: ZoneInfo, field: str, errors: ErrorCollector
) -> Timetable | None:
    """When a zone applies: its timetable less authorised absences; always, if it has none."""
    absences = read_absences(raw.get("authorised_absences"), f"{field}.authorised_absences", errors)
    if raw.get("timetable") is not None:
        return read_timetable(raw["timetable"], absences, zone, f"{field}.timetable", errors)
    if kind is ConditionType.CURFEW:
        errors.add(f"{field}.timetable", "a curfew needs a timetable")
    elif absences:
        return AlwaysOn(absences)
    return None


def _zone_condition(
    raw: dict[str, Any], ident: str | None, kind: ConditionType, ctx: PlanReading, field: str
) -> ZoneCondition | None:
    errors = ctx.errors
    before = len(errors.errors)
    parsed = parse_zone(
        raw.get("geometry"),
        raw.get("radius_m"),
        errors,
        field=f"{field}.geometry",
        radius_field=f"{field}.radius_m",
    )
    buffer = parse_buffer(raw.get("buffer_m"), errors, field=f"{field}.buffer_m")
    timetable = _zone_timetable(raw, kind, ctx.zone, field, errors)
    grace = 0.0
    if raw.get("grace_s") is not None:
        grace = read_number(raw["grace_s"], f"{field}.grace_s", errors, low=0, high=86_400) or 0.0
    if parsed is None or ident is None or len(errors.errors) > before:
        return None
    return ZoneCondition(
        id=ident,
        person=ctx.person,
        kind=ZONE_TYPES[kind],
        event_kind=kind.value,
        shape=ZoneShape(parsed.geometry, parsed.radius_m),
        buffer_m=buffer or 0.0,
        timetable=timetable,
        grace_s=grace,
    )


def _proximity_condition(
    raw: dict[str, Any], ident: str | None, ctx: PlanReading, field: str
) -> ProximityCondition | None:
    errors, settings = ctx.errors, ctx.settings
    before = len(errors.errors)
    device = read_text(raw.get("device"), f"{field}.device", errors)
    enter = read_number(raw.get("distance_m"), f"{field}.distance_m", errors, low=10, high=50_000)
    exit_m = enter * settings.proximity_exit_ratio if enter else None
    if raw.get("exit_distance_m") is not None:
        exit_m = read_number(
            raw["exit_distance_m"], f"{field}.exit_distance_m", errors, low=10, high=60_000
        )
        if exit_m is not None and enter is not None and exit_m < enter:
            errors.add(f"{field}.exit_distance_m", "must be at least distance_m")
    max_age = settings.proximity_max_age_s
    if raw.get("max_age_s") is not None:
        max_age = (
            read_number(raw["max_age_s"], f"{field}.max_age_s", errors, low=1, high=86_400) or 0
        )
    if not (ident and device and enter and exit_m) or len(errors.errors) > before:
        return None
    return ProximityCondition(ident, ctx.person, device, enter, exit_m, max_age)


def _alcohol_condition(
    raw: dict[str, Any], ident: str | None, ctx: PlanReading, field: str
) -> AlcoholCondition | None:
    errors = ctx.errors
    threshold = read_number(raw.get("threshold"), f"{field}.threshold", errors, low=0, high=1e6)
    sustained = read_number(
        raw.get("sustained_s", 0), f"{field}.sustained_s", errors, low=0, high=86_400
    )
    if ident is None or threshold is None or sustained is None:
        return None
    return AlcoholCondition(ident, ctx.person, threshold, sustained)


def read_condition(raw: Any, ctx: PlanReading, field: str) -> EngineCondition | None:
    """One condition of the plan in the engine's model; None for trail (nothing to evaluate)."""
    if not isinstance(raw, dict):
        ctx.errors.add(field, "must be an object")
        return None
    ident = read_text(raw.get("id"), f"{field}.id", ctx.errors)
    try:
        kind = ConditionType(str(raw.get("type")))
    except ValueError:
        allowed = ", ".join([*ZONE_TYPES, *OTHER_TYPES])
        ctx.errors.add(f"{field}.type", f"must be one of {allowed}, not {raw.get('type')!r}")
        return None
    if kind in ZONE_TYPES:
        return _zone_condition(raw, ident, kind, ctx, field)
    if kind is ConditionType.PROXIMITY:
        return _proximity_condition(raw, ident, ctx, field)
    if kind is ConditionType.ALCOHOL:
        return _alcohol_condition(raw, ident, ctx, field)
    return None  # trail: recorded only, nothing to evaluate
