"""Reading alerts: the list a person may see, one alert in full, and the changes since a
browser's last event (live pages catching up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import Row, and_, func, select

from vigil.alerts.lifecycle import _load_for, may_see
from vigil.alerts.model import (
    AlertChange,
    AlertStatus,
    HistoryAction,
    Severity,
    is_overdue,
    visible_to,
)
from vigil.alerts.tables import (
    alert_deliveries,
    alert_history,
    alerts,
)
from vigil.db.uow import UnitOfWork
from vigil.engine.events import EventKind
from vigil.security import permissions
from vigil.security.model import Principal


@dataclass(frozen=True)
class AlertFilter:
    status: list[AlertStatus] = field(default_factory=list)
    severity: list[Severity] = field(default_factory=list)
    person_id: str | None = None
    escalated: bool | None = None
    since: datetime | None = None
    limit: int = 100


def list_alerts(uow: UnitOfWork, principal: Principal, flt: AlertFilter) -> list[AlertRecord]:
    principal.require(permissions.ALERTS_WORK)
    query = select(alerts)
    if flt.status:
        query = query.where(alerts.c.status.in_([s.value for s in flt.status]))
    if flt.severity:
        query = query.where(alerts.c.severity.in_([s.value for s in flt.severity]))
    if flt.person_id:
        query = query.where(alerts.c.person_id == flt.person_id)
    if flt.escalated is not None:
        query = query.where(alerts.c.escalated.is_(flt.escalated))
    if flt.since is not None:
        query = query.where(alerts.c.created_at >= flt.since)
    query = _scope_clause(query, principal)
    query = query.order_by(alerts.c.created_at.desc(), alerts.c.id.desc()).limit(flt.limit)
    rows = uow.connection.execute(query).all()
    # The SQL clause narrows; the rule decides, so the two can never disagree on what is shown.
    return [alert_json(row) for row in rows if may_see(principal, row)]


def _scope_clause(query: Any, principal: Principal) -> Any:
    from vigil.security.model import Role

    if principal.role is Role.PROBATION_OFFICER:
        return query.where(alerts.c.managing_team_id == principal.team_id)
    if principal.role is Role.POLICE:
        return query.where(
            and_(
                alerts.c.force_area == principal.force_area,
                (alerts.c.severity == Severity.CRITICAL.value) | (alerts.c.escalation_level >= 2),
            )
        )
    return query


def get_alert(uow: UnitOfWork, principal: Principal, alert_id: int) -> AlertDetail:
    row = _load_for(uow, principal, alert_id)
    history = uow.connection.execute(
        select(alert_history)
        .where(alert_history.c.alert_id == alert_id)
        .order_by(alert_history.c.id)
    ).all()
    deliveries = uow.connection.execute(
        select(
            alert_deliveries.c.channel,
            alert_deliveries.c.status,
            alert_deliveries.c.attempts,
            alert_deliveries.c.delivered_at,
            alert_deliveries.c.last_error,
        ).where(alert_deliveries.c.alert_id == alert_id)
    ).all()
    history_entries: list[HistoryEntry] = [
        {
            "id": h.id,
            "at": h.at.isoformat(),
            "actor": h.actor,
            "action": h.action,
            "from_status": h.from_status,
            "to_status": h.to_status,
            "note": h.note,
            "detail": h.detail,
        }
        for h in history
    ]
    delivery_entries: list[Delivery] = [
        {
            "channel": d.channel,
            "status": d.status,
            "attempts": d.attempts,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            "last_error": d.last_error,
        }
        for d in deliveries
    ]
    return AlertDetail(**alert_json(row), history=history_entries, deliveries=delivery_entries)


class Proximity(TypedDict):
    distance_m: float
    wearer_fix_at: str | None
    protected_fix_at: str | None


class AlertRecord(TypedDict):
    """An alert as other parts read it (and as the API answers): times as ISO text in UTC."""

    id: int
    episode_id: str
    source: str
    kind: str
    severity: str
    status: str
    escalated: bool
    escalation_level: int
    next_escalation_at: str | None
    overdue: bool
    person_id: str
    condition_id: str | None
    force_area: str | None
    started_at: str
    ended_at: str | None
    raised_at: str
    retrospective: bool
    lat: float | None
    lon: float | None
    created_at: str
    updated_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    claimed_by: str | None
    claimed_at: str | None
    resolved_at: str | None
    resolved_by: str | None
    outcome: str | None
    resolution_note: str | None
    proximity: Proximity | None


class HistoryEntry(TypedDict):
    id: int
    at: str
    actor: str
    action: str
    from_status: str | None
    to_status: str
    note: str | None
    detail: dict[str, Any]


class Delivery(TypedDict):
    channel: str
    status: str
    attempts: int
    delivered_at: str | None
    last_error: str | None


class AlertDetail(AlertRecord):
    """One alert with its history and deliveries."""

    history: list[HistoryEntry]
    deliveries: list[Delivery]


def alert_json(row: Row[Any]) -> AlertRecord:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": row.id,
        "episode_id": row.episode_id,
        "source": row.source,
        "kind": row.kind,
        "severity": row.severity,
        "status": row.status,
        "escalated": row.escalated,
        "escalation_level": row.escalation_level,
        "next_escalation_at": iso(row.next_escalation_at),
        "overdue": is_overdue(row.status, row.escalation_level),
        "person_id": row.person_id,
        "condition_id": row.condition_id,
        "force_area": row.force_area,
        "started_at": row.started_at.isoformat(),
        "ended_at": iso(row.ended_at),
        "raised_at": row.raised_at.isoformat(),
        "retrospective": row.retrospective,
        "lat": row.lat,
        "lon": row.lon,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "acknowledged_at": iso(row.acknowledged_at),
        "acknowledged_by": row.acknowledged_by,
        "claimed_by": row.claimed_by,
        "claimed_at": iso(row.claimed_at),
        "resolved_at": iso(row.resolved_at),
        "resolved_by": row.resolved_by,
        "outcome": row.outcome,
        "resolution_note": row.resolution_note,
        "proximity": proximity_of(row.kind, row.detail),
    }


def proximity_of(kind: str, detail: dict[str, Any] | None) -> Proximity | None:
    """How far apart the wearer and the protected person were when a proximity alert was
    raised, with the fix time of each side (UTC); None for other alerts, or older ones raised
    before the engine carried it."""
    if kind != EventKind.PROXIMITY or not detail or "distance_m" not in detail:
        return None
    return {
        "distance_m": detail["distance_m"],
        "wearer_fix_at": detail.get("wearer_fix_at"),
        "protected_fix_at": detail.get("protected_fix_at"),
    }


def changes_since(
    uow: UnitOfWork, principal: Principal, after_history_id: int, limit: int = 500
) -> list[AlertChange]:
    """Changes a reconnecting live page missed (its Last-Event-ID), oldest first."""
    rows = uow.connection.execute(
        select(alert_history, alerts)
        .join(alerts, alerts.c.id == alert_history.c.alert_id)
        .where(alert_history.c.id > after_history_id)
        .order_by(alert_history.c.id)
        .limit(limit)
    ).all()
    out: list[AlertChange] = []
    for row in rows:
        mapping = row._mapping
        change = AlertChange(
            alert_id=mapping[alert_history.c.alert_id],
            history_id=mapping[alert_history.c.id],
            action=HistoryAction(mapping[alert_history.c.action]),
            status=AlertStatus(mapping[alert_history.c.to_status]),
            severity=Severity(mapping[alerts.c.severity]),
            kind=mapping[alerts.c.kind],
            person_id=mapping[alerts.c.person_id],
            managing_team_id=mapping[alerts.c.managing_team_id],
            force_area=mapping[alerts.c.force_area],
            escalated=mapping[alerts.c.escalated],
            escalation_level=mapping[alerts.c.escalation_level],
            at=mapping[alert_history.c.at],
        )
        if visible_to(
            principal,
            severity=change.severity,
            escalation_level=change.escalation_level,
            managing_team_id=change.managing_team_id,
            force_area=change.force_area,
        ):
            out.append(change)
    return out


def count_open(uow: UnitOfWork) -> int:
    found: int = uow.connection.execute(
        select(func.count())
        .select_from(alerts)
        .where(alerts.c.status != AlertStatus.RESOLVED.value)
    ).scalar_one()
    return found


def raised_by_severity(uow: UnitOfWork) -> dict[str, int]:
    """How many alerts have been raised, by severity (as kept: retention removes old resolved
    ones), for /metrics; counted in the database so every process reports the same."""
    query = select(alerts.c.severity, func.count()).group_by(alerts.c.severity)
    return {severity: int(n) for severity, n in uow.connection.execute(query)}
