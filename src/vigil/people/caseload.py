"""Caseload status: each wearer compliant, with open alerts, with device issues or without an
active order; their next curfew and last fix; those needing attention first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from vigil.alerts import alert_reads
from vigil.alerts.queue import DEVICE_KINDS, OPEN, QUEUE_LIMIT, age_text, severity_rank
from vigil.db.uow import UnitOfWork
from vigil.devices import service as devices
from vigil.devices.model import PROTECTED_PERSON_DEVICES
from vigil.engine.timetable import DAYS as ENGINE_DAYS
from vigil.engine.timetable import Timetable, TimetableRow
from vigil.orders import service as orders
from vigil.orders.model import Condition, ConditionType, OrderStatus, parse_time
from vigil.people import service as people
from vigil.people.service import PersonView
from vigil.security import permissions
from vigil.security.model import Principal
from vigil.tracking import trail_reads


class Status(StrEnum):
    COMPLIANT = "compliant"
    OPEN_ALERTS = "open_alerts"
    DEVICE_ISSUES = "device_issues"
    NO_ORDER = "no_order"


STATUS_LABELS = {
    Status.COMPLIANT: "Compliant",
    Status.OPEN_ALERTS: "Open alerts",
    Status.DEVICE_ISSUES: "Device issues",
    Status.NO_ORDER: "No active order",
}
STATUS_TAGS = {
    Status.COMPLIANT: "green",
    Status.OPEN_ALERTS: "red",
    Status.DEVICE_ISSUES: "orange",
    Status.NO_ORDER: "grey",
}
# A tag reports every minute or so; longer than this without a fix is itself a device issue.
STALE_FIX = timedelta(minutes=30)
# The caseload's order: those needing attention first, compliant wearers last.
CASELOAD_ORDER = (Status.OPEN_ALERTS, Status.DEVICE_ISSUES, Status.NO_ORDER, Status.COMPLIANT)


def caseload_key(status: Status, severities: Iterable[str], last_name: str) -> tuple[int, int, str]:
    """By status; within a status the wearer with the most severe open alert first (a removed
    strap, critical, before a low battery); then by name."""
    ranks = [severity_rank(s) for s in severities]
    return (CASELOAD_ORDER.index(status), min(ranks, default=4), last_name)


def person_status(
    has_active_order: bool,
    open_kinds: Sequence[str],
    last_fix_at: datetime | None,
    now: datetime,
    has_tag: bool,
) -> Status:
    """Open violations (and a removed or tampered tag) outrank device problems; a silent tag
    is a device problem."""
    if any(kind not in DEVICE_KINDS for kind in open_kinds):
        return Status.OPEN_ALERTS
    if not has_active_order:
        return Status.NO_ORDER
    stale = has_tag and (last_fix_at is None or now - last_fix_at > STALE_FIX)
    if open_kinds or stale:
        return Status.DEVICE_ISSUES
    return Status.COMPLIANT


def _timetable(condition: Condition, tz: ZoneInfo) -> Timetable:
    rows = []
    for row in condition.params.get("timetable", []):
        start, end = parse_time(row["start"]), parse_time(row["end"])
        if start is None or end is None:
            continue
        days = frozenset(ENGINE_DAYS.index(d) for d in row["days"] if d in ENGINE_DAYS)
        rows.append(TimetableRow(days, start, end))
    return Timetable(rows, tz)


def next_curfew(conditions: list[Condition], now: datetime, tz: ZoneInfo) -> datetime | None:
    """Start of the next curfew window (or the current one's start if it is running)."""
    soonest: datetime | None = None
    for condition in conditions:
        if condition.type is not ConditionType.CURFEW:
            continue
        table = _timetable(condition, tz)
        window = table.window_at(now.timestamp()) or table.next_window(now.timestamp())
        if window is None:
            continue
        begins = datetime.fromtimestamp(window.start, tz)
        if soonest is None or begins < soonest:
            soonest = begins
    return soonest


def last_fix_at(uow: UnitOfWork, person_id: int, now: datetime) -> datetime | None:
    """The latest fix of a person, looking back two days at most (older is simply 'silent')."""
    for look_back in (timedelta(minutes=30), timedelta(hours=6), timedelta(days=2)):
        found = trail_reads.person_fixes(uow.connection, person_id, now - look_back, now)
        if found:
            return max(f.fix_time for f in found)
    return None


@dataclass(frozen=True)
class _Caseload:
    """What the caseload reads once for all its persons."""

    orders: dict[int, list[orders.OrderView]]
    devices: dict[int, list[devices.DeviceView]]
    tagged: set[int]
    open_kinds: dict[str, list[str]]
    open_severities: dict[str, list[str]]


def _read_caseload(uow: UnitOfWork, principal: Principal) -> _Caseload:
    by_person: dict[int, list[orders.OrderView]] = defaultdict(list)
    for order in orders.list_orders(uow, principal):
        by_person[order.person_id].append(order)
    held: dict[int, list[devices.DeviceView]] = defaultdict(list)
    for device in devices.list_devices(uow, principal):
        if device.person_id is not None and device.current is not None:
            held[device.person_id].append(device)
    tagged = {
        p for p, found in held.items() if any(d.type not in PROTECTED_PERSON_DEVICES for d in found)
    }
    kinds: dict[str, list[str]] = defaultdict(list)
    severities: dict[str, list[str]] = defaultdict(list)
    flt = alert_reads.AlertFilter(status=OPEN, limit=QUEUE_LIMIT)
    for alert in alert_reads.list_alerts(uow, principal, flt):
        kinds[str(alert["person_id"])].append(alert["kind"])
        severities[str(alert["person_id"])].append(alert["severity"])
    return _Caseload(by_person, held, tagged, kinds, severities)


@dataclass(frozen=True)
class CaseloadRow:
    """One wearer on the caseload page: his status and what it rests on."""

    person: PersonView
    # The order shown: the active one, else the latest.
    order: orders.OrderView | None
    devices: list[devices.DeviceView]
    status: Status
    open_alerts: int
    device_alerts: int
    has_tag: bool
    next_curfew: datetime | None
    curfew_now: bool
    last_fix: datetime | None
    last_fix_age: str | None
    severities: list[str]


def _row(
    uow: UnitOfWork, read: _Caseload, person: PersonView, now: datetime, tz: ZoneInfo
) -> CaseloadRow:
    person_orders = read.orders.get(person.id, [])
    active = [o for o in person_orders if o.status is OrderStatus.ACTIVE]
    last = last_fix_at(uow, person.id, now)
    kinds = read.open_kinds.get(str(person.id), [])
    curfew = next_curfew([c for o in active for c in o.conditions], now, tz)
    return CaseloadRow(
        person=person,
        order=active[0] if active else (person_orders[-1] if person_orders else None),
        devices=[
            d
            for d in read.devices.get(person.id, [])
            if d.current and d.current.holder_kind.value == "person"
        ],
        status=person_status(bool(active), kinds, last, now, person.id in read.tagged),
        open_alerts=len([k for k in kinds if k not in DEVICE_KINDS]),
        device_alerts=len([k for k in kinds if k in DEVICE_KINDS]),
        has_tag=person.id in read.tagged,
        next_curfew=curfew,
        curfew_now=curfew is not None and curfew <= now,
        last_fix=last,
        last_fix_age=age_text(last, now) if last else None,
        severities=read.open_severities.get(str(person.id), []),
    )


def caseload(
    uow: UnitOfWork, principal: Principal, now: datetime, tz: ZoneInfo
) -> list[CaseloadRow]:
    """Every person the principal may see, with their status, those needing attention first."""
    principal.require(permissions.PERSONS_READ)
    read = _read_caseload(uow, principal)
    rows = [_row(uow, read, person, now, tz) for person in people.list_persons(uow, principal)]
    rows.sort(key=lambda r: caseload_key(r.status, r.severities, r.person.last_name))
    return rows
