"""Reading a monitoring plan (the SCENARIO.json shape) into the engine's model, checking fields.

The same shape comes from ``vigil replay``'s SCENARIO.json and, live, from the registry's
monitoring plan. Errors name the field by its JSON path, e.g. ``persons[0].conditions[2].radius_m``.
Conditions are read by ``plan_conditions``, plain fields by ``plan_fields``.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vigil.engine.model import (
    AlcoholCondition,
    EngineSettings,
    PersonPlan,
    Plan,
    ProximityCondition,
    ZoneCondition,
)
from vigil.engine.plan_conditions import EngineCondition, PlanReading, read_condition
from vigil.engine.plan_fields import read_number, read_text
from vigil.errors import ErrorCollector


def _timezone(raw: dict[str, Any], errors: ErrorCollector) -> tuple[str, ZoneInfo]:
    zone_name = raw.get("timezone", "Europe/London")
    try:
        return str(zone_name), ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        errors.add("timezone", f"unknown time zone {zone_name!r}")
        return str(zone_name), ZoneInfo("Europe/London")


def _settings(raw: dict[str, Any], errors: ErrorCollector) -> EngineSettings:
    """The engine's defaults, with the plan's overrides."""
    settings = EngineSettings()
    custom = raw.get("settings") or {}
    if not isinstance(custom, dict):
        errors.add("settings", "must be an object")
        custom = {}
    overrides: dict[str, float | int] = {}
    for key, value in custom.items():
        if key not in EngineSettings.names():
            errors.add(f"settings.{key}", "is not a setting of the engine")
            continue
        number = read_number(value, f"settings.{key}", errors, low=0, high=1e9)
        if number is not None:
            default = getattr(settings, key)
            overrides[key] = int(number) if isinstance(default, int) else number
    return EngineSettings(**{**settings.__dict__, **overrides}) if overrides else settings


def _devices(raw: dict[str, Any], pid: str | None, where: str, ctx: PlanReading) -> list[str]:
    """A person's device ids; a device may belong to one person only."""
    devices_raw = raw.get("devices", [])
    if not isinstance(devices_raw, list):
        ctx.errors.add(f"{where}.devices", "must be a list of device ids")
        devices_raw = []
    devices: list[str] = []
    for d_index, d_raw in enumerate(devices_raw):
        device = read_text(d_raw, f"{where}.devices[{d_index}]", ctx.errors)
        if device is None:
            continue
        if device in ctx.device_owner and ctx.device_owner[device] != pid:
            ctx.errors.add(
                f"{where}.devices[{d_index}]", f"device {device!r} is already another person's"
            )
        ctx.device_owner[device] = pid or ""
        devices.append(device)
    return devices


def _conditions(raw: dict[str, Any], where: str, ctx: PlanReading) -> list[EngineCondition]:
    conditions_raw = raw.get("conditions", [])
    if not isinstance(conditions_raw, list):
        ctx.errors.add(f"{where}.conditions", "must be a list")
        conditions_raw = []
    found: list[EngineCondition] = []
    seen: set[str] = set()
    for c_index, c_raw in enumerate(conditions_raw):
        c_where = f"{where}.conditions[{c_index}]"
        condition = read_condition(c_raw, ctx, c_where)
        if condition is None:
            continue
        if condition.id in seen:
            ctx.errors.add(f"{c_where}.id", f"condition {condition.id!r} appears twice")
        seen.add(condition.id)
        found.append(condition)
    return found


def _person(raw: Any, where: str, ctx: PlanReading, seen: set[str]) -> PersonPlan | None:
    if not isinstance(raw, dict):
        ctx.errors.add(where, "must be an object with id, devices and conditions")
        return None
    pid = read_text(raw.get("id"), f"{where}.id", ctx.errors)
    if pid is not None:
        if pid in seen:
            ctx.errors.add(f"{where}.id", f"person {pid!r} appears twice")
        seen.add(pid)
    devices = _devices(raw, pid, where, ctx)
    ctx.person = pid or ""
    conditions = _conditions(raw, where, ctx)
    if pid is None:
        return None
    return PersonPlan(
        pid,
        tuple(devices),
        tuple(c for c in conditions if isinstance(c, ZoneCondition)),
        tuple(c for c in conditions if isinstance(c, ProximityCondition)),
        tuple(c for c in conditions if isinstance(c, AlcoholCondition)),
    )


def _check_proximity_devices(persons: list[PersonPlan], ctx: PlanReading) -> None:
    for person in persons:
        for condition in person.proximity:
            if ctx.device_owner.get(condition.device) == person.id:
                ctx.errors.add(
                    f"persons[{person.id}].conditions[{condition.id}].device",
                    "is the wearer's own device; proximity needs the protected person's device",
                )


def parse_plan(raw: Any) -> Plan:
    """Check and read a scenario; raises ValidationError listing every problem by field."""
    errors = ErrorCollector()
    if not isinstance(raw, dict):
        errors.add("scenario", "must be a JSON object with persons")
        errors.raise_if_any()
    zone_name, zone = _timezone(raw, errors)
    ctx = PlanReading(errors, zone, _settings(raw, errors))
    persons_raw = raw.get("persons")
    if not isinstance(persons_raw, list):
        errors.add("persons", "must be a list")
        errors.raise_if_any()
    seen: set[str] = set()
    persons = [
        person
        for p_index, p_raw in enumerate(persons_raw)
        if (person := _person(p_raw, f"persons[{p_index}]", ctx, seen)) is not None
    ]
    _check_proximity_devices(persons, ctx)
    errors.raise_if_any()
    return Plan(tuple(persons), zone_name, ctx.settings)
