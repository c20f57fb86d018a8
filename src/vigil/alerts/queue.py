"""The live alert queue: its order (risk to the victim, new before acknowledged, severity, age),
its counts and filters, and how alerts are named and aged for people to scan."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from vigil.alerts import alert_reads
from vigil.alerts.alert_reads import AlertRecord
from vigil.alerts.kind_labels import kind_label
from vigil.alerts.model import AlertStatus, Severity
from vigil.db.uow import UnitOfWork
from vigil.engine.events import EventKind as K
from vigil.people import service as people
from vigil.security import permissions
from vigil.security.model import Principal
from vigil.text import ascii_digits

OPEN = [AlertStatus.NEW, AlertStatus.ACKNOWLEDGED]
QUEUE_LIMIT = 5000
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
# A device that needs looking after. A removed strap or a tampered tag is not among them: the
# wearer may be getting out of monitoring, so it counts as an open alert like a violation.
DEVICE_KINDS = frozenset({K.BATTERY_LOW, K.NO_COMMUNICATION, K.NO_GPS})
# Alerts about the protected person's safety right now: the wearer is near them or inside the
# zone around their home, or they pressed SOS. These lead the queue whatever else is waiting.
VICTIM_RISK_KINDS = frozenset({K.SOS, K.PROXIMITY, K.EXCLUSION_ZONE})


# Any alert as a mapping: a record, a queue row, or what a live page sends back.
Q = TypeVar("Q", bound=Mapping[str, Any])


def queue_key(alert: Mapping[str, Any]) -> tuple[int, int, int, str, int]:
    """Risk to the victim first (SOS, proximity, exclusion zone); then new before acknowledged
    (one already being handled waits behind one nobody has picked up); then the most severe;
    then the oldest (longest waiting)."""
    victim = 0 if alert.get("kind") in VICTIM_RISK_KINDS else 1
    picked_up = 0 if alert.get("status", AlertStatus.NEW) == AlertStatus.NEW else 1
    return (victim, picked_up, severity_rank(alert.get("severity", Severity.LOW)),
            str(alert.get("created_at") or ""), int(alert.get("id") or 0))  # fmt: skip


def severity_rank(severity: str) -> int:
    """0 for critical, counting up; an unknown severity after all known ones."""
    return SEVERITY_ORDER.index(Severity(severity)) if severity in SEVERITY_ORDER else 4


def order_queue(alerts: Iterable[Q]) -> list[Q]:
    return sorted(alerts, key=queue_key)


def severity_counts(alerts: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for alert in alerts:
        if alert.get("severity") in counts:
            counts[Severity(alert["severity"])] += 1
    return {str(severity): count for severity, count in counts.items()}


def age_text(since: datetime, now: datetime) -> str:
    """'3 min', '2 h 5 min', '4 days': how long something has waited, for people to scan."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


@dataclass(frozen=True)
class QueueFilter:
    region: str = ""
    force: str = ""
    team: str = ""
    kind: str = ""

    def admits(self, row: QueueRow) -> bool:
        return (
            (not self.region or row["region"] == self.region)
            and (not self.force or row["force_area"] == self.force)
            and (not self.team or row["team"] == self.team)
            and (not self.kind or row["kind"] == self.kind)
        )


class QueueRow(AlertRecord):
    """An open alert in the queue: who it is about, what it is in words, how long it waited."""

    person_name: str
    person_ref: str
    team: str | None
    region: str | None
    risk: str | None
    what: str
    age: str
    age_s: int


@dataclass
class QueueView:
    rows: list[QueueRow]
    counts: dict[str, int]
    total: int
    regions: list[str] = field(default_factory=list)
    forces: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)


def _queue_rows(uow: UnitOfWork, principal: Principal, now: datetime) -> list[QueueRow]:
    """Open alerts the principal may see, each with who it is about and how long it waited."""
    found = alert_reads.list_alerts(
        uow, principal, alert_reads.AlertFilter(status=OPEN, limit=QUEUE_LIMIT)
    )
    ids = sorted({int(a["person_id"]) for a in found if ascii_digits(str(a["person_id"]))})
    persons = people.persons_by_ids(uow, ids)
    rows: list[QueueRow] = []
    for alert in found:
        person = persons.get(int(alert["person_id"])) if ascii_digits(alert["person_id"]) else None
        created = datetime.fromisoformat(alert["created_at"])
        rows.append(
            QueueRow(
                **alert,
                # Named as people know them; a row id means nothing to anyone reading the queue.
                person_name=person.full_name if person else "Not in the registry",
                person_ref=(person.crn or person.prison_number or "") if person else "",
                team=person.team_name if person else None,
                region=person.region_code if person else None,
                risk=person.risk_level.value if person else None,
                what=kind_label(alert["kind"]),
                age=age_text(created, now),
                age_s=int((now - created).total_seconds()),
            )
        )
    return rows


def queue(uow: UnitOfWork, principal: Principal, flt: QueueFilter, now: datetime) -> QueueView:
    """Open alerts the principal may see, most urgent first, with who they are about."""
    principal.require(permissions.ALERTS_WORK)
    rows = _queue_rows(uow, principal, now)
    wanted = [row for row in rows if flt.admits(row)]
    return QueueView(
        rows=order_queue(wanted),
        counts=severity_counts(wanted),
        total=len(rows),
        regions=sorted({r["region"] for r in rows if r["region"]}),
        forces=sorted({r["force_area"] for r in rows if r["force_area"]}),
        teams=sorted({r["team"] for r in rows if r["team"]}),
        kinds=sorted({r["kind"] for r in rows}),
    )
