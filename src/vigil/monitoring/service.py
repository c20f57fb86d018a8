"""Use cases behind the monitoring pages. They own no tables: every read goes through the other
parts' services (alerts, people, orders, devices, the trail store, the engine), which enforce
role and caseload scope and write the audit entries for what is read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from vigil.alerts import service as alerts
from vigil.alerts.model import AlertStatus
from vigil.db.uow import UnitOfWork
from vigil.devices import service as devices
from vigil.devices.model import PROTECTED_PERSON_DEVICES
from vigil.engine import service as engine
from vigil.engine.timetable import DAYS as ENGINE_DAYS
from vigil.engine.timetable import Timetable, TimetableRow
from vigil.errors import NotFound
from vigil.monitoring import model
from vigil.orders import service as orders
from vigil.orders.model import ConditionType, OrderStatus, parse_time
from vigil.people import service as people
from vigil.security.model import Principal
from vigil.text import ascii_digits
from vigil.tracking import queries as trails
from vigil.tracking import store

OPEN = [AlertStatus.NEW, AlertStatus.ACKNOWLEDGED]
QUEUE_LIMIT = 5000
# A trail drawn on a page needs no more detail than a few metres; a week of minute fixes thins
# to a few hundred points, zone and gap points always kept.
THIN_TOLERANCE_M = 15.0
ZONE_TYPES = (ConditionType.EXCLUSION_ZONE, ConditionType.INCLUSION_ZONE, ConditionType.CURFEW)


def scope_check(uow: UnitOfWork, principal: Principal, person_id: str) -> bool:
    """The registry's caseload rule, for the trail store's queries."""
    try:
        people.get_person(uow, principal, int(person_id))
    except (NotFound, ValueError):
        return False
    return True


# --- the queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    region: str = ""
    force: str = ""
    team: str = ""
    kind: str = ""


@dataclass
class QueueView:
    rows: list[dict[str, Any]]
    counts: dict[str, int]
    total: int
    regions: list[str] = field(default_factory=list)
    forces: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)


def queue(uow: UnitOfWork, principal: Principal, flt: QueueFilter, now: datetime) -> QueueView:
    """Open alerts the principal may see, most urgent first, with who they are about."""
    found = alerts.list_alerts(uow, principal, alerts.AlertFilter(status=OPEN, limit=QUEUE_LIMIT))
    ids = sorted({int(a["person_id"]) for a in found if ascii_digits(str(a["person_id"]))})
    persons = people.persons_by_ids(uow, ids)
    rows = []
    for alert in found:
        person = persons.get(int(alert["person_id"])) if ascii_digits(alert["person_id"]) else None
        created = datetime.fromisoformat(alert["created_at"])
        rows.append(
            {
                **alert,
                "person_name": person.full_name if person else f"Person {alert['person_id']}",
                "team": person.team_name if person else None,
                "region": person.region_code if person else None,
                "risk": person.risk_level.value if person else None,
                "what": model.KIND_LABELS.get(alert["kind"], alert["kind"].replace("_", " ")),
                "age": model.age_text(created, now),
                "age_s": int((now - created).total_seconds()),
            }
        )
    view = QueueView(
        rows=[],
        counts={},
        total=len(rows),
        regions=sorted({r["region"] for r in rows if r["region"]}),
        forces=sorted({r["force_area"] for r in rows if r["force_area"]}),
        teams=sorted({r["team"] for r in rows if r["team"]}),
        kinds=sorted({r["kind"] for r in rows}),
    )
    wanted = [
        r
        for r in rows
        if (not flt.region or r["region"] == flt.region)
        and (not flt.force or r["force_area"] == flt.force)
        and (not flt.team or r["team"] == flt.team)
        and (not flt.kind or r["kind"] == flt.kind)
    ]
    view.rows = model.order_queue(wanted)
    view.counts = model.severity_counts(wanted)
    return view


# --- maps ------------------------------------------------------------------------------------


def _zone_json(condition: orders.Condition) -> dict[str, Any]:
    p = condition.params
    return {
        "id": condition.id,
        "type": condition.type.value,
        "label": p.get("label")
        or {"curfew": "Curfew address", "exclusion_zone": "Exclusion zone"}.get(
            condition.type.value, condition.type.value.replace("_", " ")
        ),
        "geometry": p["geometry"],
        "radius_m": p.get("radius_m"),
        "buffer_m": p.get("buffer_m", 0),
    }


def zones_of(order_list: list[orders.OrderView]) -> list[dict[str, Any]]:
    out = []
    for order in order_list:
        if order.status is not OrderStatus.ACTIVE:
            continue
        out += [_zone_json(c) for c in order.conditions if c.type in ZONE_TYPES]
    return out


def trail_json(
    found: trails.TrailArrays,
    zones: list[dict[str, Any]],
    *,
    gap_s: float = 900.0,
    thin: bool = True,
) -> dict[str, Any]:
    """Fixes for the map: thinned for display, never dropping zone or gap-edge fixes.

    Works on the trail's columns: a week of minute fixes is 10,080 rows, and one Python object
    per row cost more than the rest of the page (docs/performance.md, "Monitoring pages")."""
    usable = np.flatnonzero(~(np.isnan(found.lats) | np.isnan(found.lons)))
    if usable.size == 0:
        return {"points": [], "total": len(found), "shown": 0}
    lat, lon = found.lats[usable], found.lons[usable]
    seconds = found.times_us[usable] // 1_000_000
    in_zone = model.zone_mask(lat, lon, [z for z in zones if z["type"] != "curfew"])
    pinned = in_zone | model.gap_ends(seconds.astype(np.float64), gap_s)
    keep = (
        model.thin_trail(lat, lon, THIN_TOLERANCE_M, pinned)
        if thin
        else np.arange(usable.size, dtype=np.int64)
    )
    rows = usable[keep]
    accuracy = np.nan_to_num(found.accuracies_m[rows], nan=0.0)
    flagged = found.implausible[rows] | found.invalid_position[rows]
    # Python's round on the few hundred kept points: numpy's rounding can leave long decimals.
    points = [
        [round(a, 6), round(o, 6), round(c, 1), t, z, g]
        for a, o, c, t, z, g in zip(
            lat[keep].tolist(),
            lon[keep].tolist(),
            accuracy.tolist(),
            seconds[keep].tolist(),
            in_zone[keep].astype(np.int8).tolist(),
            flagged.astype(np.int8).tolist(),
            strict=True,
        )
    ]
    return {"points": points, "total": len(found), "shown": len(points)}


# --- the alert page --------------------------------------------------------------------------


@dataclass
class AlertPage:
    alert: dict[str, Any]
    person: people.PersonView
    zones: list[dict[str, Any]]
    condition: dict[str, Any] | None
    trail: dict[str, Any]
    protected: list[tuple[int, str]]
    window: tuple[datetime, datetime]


def alert_page(uow: UnitOfWork, principal: Principal, alert_id: int, now: datetime) -> AlertPage:
    found = alerts.get_alert(uow, principal, alert_id)  # NotFound outside scope
    person = people.get_person(uow, principal, int(found["person_id"]))
    order_list = orders.list_orders(uow, principal, person.id)
    zones = zones_of(order_list)
    condition = next((z for z in zones if str(z["id"]) == str(found["condition_id"])), None)
    started = datetime.fromisoformat(found["started_at"] or found["created_at"])
    ended = datetime.fromisoformat(found["ended_at"]) if found["ended_at"] else now
    window = (started - timedelta(minutes=30), min(now, ended + timedelta(minutes=30)))
    if window[1] <= window[0]:
        window = (window[0], window[0] + timedelta(minutes=1))
    # The trail before and after is a trail view like any other: stated reason, audited.
    got = trails.trail_arrays(
        uow,
        principal,
        person.id,
        window[0],
        window[1],
        f"Reviewing alert {alert_id}",
        scope=scope_check,
    )
    return AlertPage(
        alert=found,
        person=person,
        zones=zones,
        condition=condition,
        trail=trail_json(got, zones, thin=False),
        protected=people.protected_person_refs(uow, person.id),
        window=window,
    )


# --- caseload status -------------------------------------------------------------------------


def next_curfew(conditions: list[orders.Condition], now: datetime, tz: ZoneInfo) -> datetime | None:
    """Start of the next curfew window (or the current one's start if it is running)."""
    soonest: datetime | None = None
    for condition in conditions:
        if condition.type is not ConditionType.CURFEW:
            continue
        rows = []
        for row in condition.params.get("timetable", []):
            start, end = parse_time(row["start"]), parse_time(row["end"])
            if start is None or end is None:
                continue
            days = frozenset(ENGINE_DAYS.index(d) for d in row["days"] if d in ENGINE_DAYS)
            rows.append(TimetableRow(days, start, end))
        table = Timetable(rows, tz)
        at = now.timestamp()
        window = table.window_at(at) or table.next_window(at)
        if window is None:
            continue
        begins = datetime.fromtimestamp(window.start, tz)
        if soonest is None or begins < soonest:
            soonest = begins
    return soonest


def last_fix_at(uow: UnitOfWork, person_id: int, now: datetime) -> datetime | None:
    """The latest fix of a person, looking back two days at most (older is simply 'silent')."""
    for look_back in (timedelta(minutes=30), timedelta(hours=6), timedelta(days=2)):
        found = store.person_fixes(uow.connection, person_id, now - look_back, now)
        if found:
            return max(f.fix_time for f in found)
    return None


def caseload(
    uow: UnitOfWork, principal: Principal, now: datetime, tz: ZoneInfo
) -> list[dict[str, Any]]:
    persons = people.list_persons(uow, principal)
    by_person_orders: dict[int, list[orders.OrderView]] = defaultdict(list)
    for order in orders.list_orders(uow, principal):
        by_person_orders[order.person_id].append(order)
    tags: set[int] = set()
    for device in devices.list_devices(uow, principal):
        if (
            device.person_id is not None
            and device.current is not None
            and device.type not in PROTECTED_PERSON_DEVICES
        ):
            tags.add(device.person_id)
    open_kinds: dict[str, list[str]] = defaultdict(list)
    open_severities: dict[str, list[str]] = defaultdict(list)
    for alert in alerts.list_alerts(
        uow, principal, alerts.AlertFilter(status=OPEN, limit=QUEUE_LIMIT)
    ):
        open_kinds[str(alert["person_id"])].append(alert["kind"])
        open_severities[str(alert["person_id"])].append(alert["severity"])
    rows: list[dict[str, Any]] = []
    for person in persons:
        active = [o for o in by_person_orders.get(person.id, []) if o.status is OrderStatus.ACTIVE]
        conditions = [c for o in active for c in o.conditions]
        last = last_fix_at(uow, person.id, now)
        kinds = open_kinds.get(str(person.id), [])
        status = model.person_status(bool(active), kinds, last, now, person.id in tags)
        curfew = next_curfew(conditions, now, tz)
        rows.append(
            {
                "person": person,
                "status": status,
                "open_alerts": len([k for k in kinds if k not in model.DEVICE_KINDS]),
                "device_alerts": len([k for k in kinds if k in model.DEVICE_KINDS]),
                "has_tag": person.id in tags,
                "next_curfew": curfew,
                "curfew_now": curfew is not None and curfew <= now,
                "last_fix": last,
                "last_fix_age": model.age_text(last, now) if last else None,
                "severities": open_severities.get(str(person.id), []),
            }
        )
    rows.sort(key=lambda r: model.caseload_key(r["status"], r["severities"], r["person"].last_name))
    return rows


# --- the person page -------------------------------------------------------------------------


@dataclass
class PersonMap:
    person: people.PersonView
    orders: list[orders.OrderView]
    zones: list[dict[str, Any]]
    devices: list[devices.DeviceView]
    violations: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    trail: dict[str, Any] | None


def person_map(
    uow: UnitOfWork,
    principal: Principal,
    person_id: int,
    window: tuple[datetime, datetime] | None,
    reason: str | None,
) -> PersonMap:
    """The person's orders on a map; with a window and a reason, their trail (audited)."""
    person = people.get_person(uow, principal, person_id)
    order_list = orders.list_orders(uow, principal, person_id)
    zones = zones_of(order_list)
    trail = None
    if window is not None:
        got = trails.trail_arrays(
            uow, principal, person_id, window[0], window[1], reason, scope=scope_check
        )
        trail = trail_json(got, zones)
        trail["gaps"] = [[int(g.start.timestamp()), int(g.end.timestamp())] for g in got.gaps]
    return PersonMap(
        person=person,
        orders=order_list,
        zones=zones,
        devices=devices.list_devices(uow, principal, person_id),
        violations=engine.violations_of(uow, str(person_id)),
        alerts=alerts.list_alerts(
            uow, principal, alerts.AlertFilter(person_id=str(person_id), limit=50)
        ),
        trail=trail,
    )
