"""People acting on alerts: acknowledge, claim, escalate (by hand or when a deadline passes),
resolve with an outcome, add a note; each change kept in the alert's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from vigil.alerts.model import (
    Alert,
    AlertChange,
    AlertStatus,
    HistoryAction,
    Severity,
    visible_to,
)
from vigil.alerts.raising import AlertSnapshot, plan_deliveries
from vigil.alerts.service import MAX_NOTE, AlertContext, change_of, write_history
from vigil.alerts.tables import (
    alerts,
)
from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.security import audit, permissions
from vigil.security.model import Principal


def may_see(principal: Principal, row: Row[Any]) -> bool:
    return visible_to(
        principal,
        severity=Severity(row.severity),
        escalation_level=row.escalation_level,
        managing_team_id=row.managing_team_id,
        force_area=row.force_area,
    )


def _load_for(uow: UnitOfWork, principal: Principal, alert_id: int) -> Row[Any]:
    """The stored row of an alert the principal may work; it stays inside the alerts part (other
    parts read an ``AlertRecord``)."""
    principal.require(permissions.ALERTS_WORK)
    row = uow.connection.execute(select(alerts).where(alerts.c.id == alert_id)).first()
    if row is None or not may_see(principal, row):
        raise NotFound(f"alert {alert_id}")
    return row


def _domain(row: Row[Any]) -> Alert:
    return Alert(
        id=row.id,
        status=AlertStatus(row.status),
        severity=Severity(row.severity),
        escalated=row.escalated,
        escalation_level=row.escalation_level,
        next_escalation_at=row.next_escalation_at,
    )


def _clean_note(note: str | None, *, required: bool) -> str | None:
    text = (note or "").strip()
    if required and not text:
        raise ValidationError("note", "is required")
    if len(text) > MAX_NOTE:
        raise ValidationError("note", f"is longer than {MAX_NOTE} characters")
    return text or None


def _save_transition(
    uow: UnitOfWork,
    row: Row[Any],
    alert: Alert,
    principal: Principal,
    action: HistoryAction,
    note: str | None,
    values: dict[str, Any],
    detail: dict[str, Any] | None = None,
    *,
    same_level: bool = False,
) -> AlertChange:
    now = uow.clock.now()
    _update_if_unchanged(uow, row, alert, values, now, same_level=same_level)
    history_id = write_history(
        uow,
        row.id,
        principal.actor,
        action,
        AlertStatus(row.status),
        alert.status,
        note,
        detail or {},
    )
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action=f"alert.{action.value}",
        subject_type="alert",
        subject_id=row.id,
        detail=detail or {},
    )
    return change_of(
        row,
        history_id,
        action,
        now,
        status=alert.status,
        escalated=alert.escalated,
        escalation_level=alert.escalation_level,
    )


def _update_if_unchanged(
    uow: UnitOfWork,
    row: Row[Any],
    alert: Alert,
    values: dict[str, Any],
    now: datetime,
    *,
    same_level: bool,
) -> None:
    # Conditional on the status we read: two operators acting at once cannot both win. An
    # escalation is also conditional on the level it read, so two timers (the web server's
    # and a separate worker's) escalate a due alert once.
    guard = [alerts.c.id == row.id, alerts.c.status == row.status]
    if same_level:
        guard.append(alerts.c.escalation_level == row.escalation_level)
    result = uow.connection.execute(
        update(alerts)
        .where(*guard)
        .values(
            status=alert.status.value,
            escalated=alert.escalated,
            escalation_level=alert.escalation_level,
            next_escalation_at=alert.next_escalation_at,
            updated_at=now,
            **values,
        )
    )
    if result.rowcount != 1:
        raise ValidationError("status", "the alert changed meanwhile; reload and try again")


def acknowledge(
    uow: UnitOfWork, principal: Principal, alert_id: int, note: str | None = None
) -> AlertChange:
    row = _load_for(uow, principal, alert_id)
    text = _clean_note(note, required=False)
    alert = _domain(row)
    alert.acknowledge()
    now = uow.clock.now()
    values = {"acknowledged_at": now, "acknowledged_by": principal.actor}
    if row.claimed_by is None:  # whoever acknowledges an unclaimed alert holds it
        values |= {"claimed_by": principal.actor, "claimed_at": now}
    return _save_transition(uow, row, alert, principal, HistoryAction.ACKNOWLEDGED, text, values)


def claim(uow: UnitOfWork, principal: Principal, alert_id: int) -> AlertChange:
    """Take an open alert: everyone sees who holds it. Taking one another operator holds is
    allowed (they may have gone off shift) and the history names whom it was taken from."""
    row = _load_for(uow, principal, alert_id)
    if row.status == AlertStatus.RESOLVED.value:
        raise ValidationError("status", "a resolved alert cannot be claimed")
    if row.claimed_by == principal.actor:
        raise ValidationError("status", "you already hold this alert")
    values = {"claimed_by": principal.actor, "claimed_at": uow.clock.now()}
    detail = {"from": row.claimed_by} if row.claimed_by else {}
    return _save_transition(
        uow, row, _domain(row), principal, HistoryAction.CLAIMED, None, values, detail
    )


def escalate(
    uow: UnitOfWork, principal: Principal, alert_id: int, note: str | None, ctx: AlertContext
) -> AlertChange:
    """A person asks for the next tier now, without waiting for the deadline."""
    row = _load_for(uow, principal, alert_id)
    text = _clean_note(note, required=True)
    return _escalate_row(uow, ctx, row, principal, text)


def _escalate_row(
    uow: UnitOfWork, ctx: AlertContext, row: Row[Any], principal: Principal, note: str | None
) -> AlertChange:
    alert = _domain(row)
    tiers = alert.escalate(ctx.policy, uow.clock.now())
    level = alert.escalation_level
    detail = {"level": level, "tiers": sorted(t.value for t in tiers)}
    change = _save_transition(
        uow, row, alert, principal, HistoryAction.ESCALATED, note, {}, detail, same_level=True
    )
    case = ctx.directory.case(uow, row.person_id)
    snapshot = AlertSnapshot(
        row.id,
        row.kind,
        Severity(row.severity),
        row.person_id,
        row.condition_id,
        row.force_area,
        row.started_at,
        row.lat,
        row.lon,
    )
    plan_deliveries(uow, ctx, snapshot, tiers, case, event_key=f"escalation:{level}")
    return change


def escalate_due(uow: UnitOfWork, ctx: AlertContext, limit: int = 100) -> list[AlertChange]:
    """Escalate every unacknowledged alert whose deadline has passed; one transaction.

    Deadlines live in the alerts table (indexed), so a restart finds every one that fell due
    while nothing was running, and escalates it once, not once per missed interval.
    """
    from vigil.security.model import SYSTEM

    now = uow.clock.now()
    rows = uow.connection.execute(
        select(alerts)
        .where(
            alerts.c.status == AlertStatus.NEW.value,
            alerts.c.next_escalation_at.is_not(None),
            alerts.c.next_escalation_at <= now,
        )
        .order_by(alerts.c.next_escalation_at)
        .limit(limit)
    ).all()
    changes: list[AlertChange] = []
    timer = Principal(id=SYSTEM.id, name="escalation-timer", role=SYSTEM.role, is_machine=True)
    for row in rows:
        # Restart the clock from now, not from the missed deadline, so a long outage gives one
        # escalation on restart rather than a burst.
        savepoint = uow.connection.begin_nested()
        try:
            changes.append(_escalate_row(uow, ctx, row, timer, None))
            savepoint.commit()
        except ValidationError:
            # Another timer escalated it (or someone acknowledged it) since we read it.
            savepoint.rollback()
    return changes


def resolve(
    uow: UnitOfWork,
    principal: Principal,
    alert_id: int,
    outcome: str | None,
    note: str | None,
) -> AlertChange:
    row = _load_for(uow, principal, alert_id)
    principal.require(permissions.ALERTS_RESOLVE)
    errors = ErrorCollector()
    if not (outcome or "").strip():
        errors.add("outcome", "is required to resolve an alert")
    if not (note or "").strip():
        errors.add("note", "a resolution needs a note saying what was done")
    errors.raise_if_any()
    text = _clean_note(note, required=True)
    alert = _domain(row)
    resolved = alert.resolve(outcome, text)
    values = {
        "resolved_at": uow.clock.now(),
        "resolved_by": principal.actor,
        "outcome": resolved.value,
        "resolution_note": text,
    }
    return _save_transition(
        uow, row, alert, principal, HistoryAction.RESOLVED, text, values, {"outcome": resolved}
    )


def add_note(uow: UnitOfWork, principal: Principal, alert_id: int, note: str | None) -> AlertChange:
    row = _load_for(uow, principal, alert_id)
    text = _clean_note(note, required=True)
    now = uow.clock.now()
    status = AlertStatus(row.status)
    uow.connection.execute(update(alerts).where(alerts.c.id == row.id).values(updated_at=now))
    history_id = write_history(
        uow, row.id, principal.actor, HistoryAction.NOTE, status, status, text, {}
    )
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="alert.note",
        subject_type="alert",
        subject_id=row.id,
    )
    return change_of(row, history_id, HistoryAction.NOTE, now)
