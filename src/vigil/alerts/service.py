"""Alert use cases. Each takes a UnitOfWork; the alert change, its history, its audit entry and
its pending deliveries are written in that one transaction.

Callers commit and then publish the returned ``AlertChange``s on ``Topic.ALERTS`` (live pages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, func, insert, select, update

from vigil.alerts import outbox, patterns
from vigil.alerts.config import AlertSettings
from vigil.alerts.model import (
    ALERT_ROLES,
    APPROACH_PATTERN_KIND,
    RESOLVE_ROLES,
    SUPPRESSION_ROLES,
    Alert,
    AlertChange,
    AlertSource,
    AlertStatus,
    EscalationPolicy,
    HistoryAction,
    PatternRule,
    Severity,
    SuppressionKind,
    SuppressionWindow,
    Tier,
    WorkingHours,
    is_overdue,
    severity_for,
    visible_to,
)
from vigil.alerts.routing import (
    CaseInfo,
    ControlRoom,
    Directory,
    ProtectedRef,
    Recipient,
    initial_tiers,
    recipients_for,
)
from vigil.alerts.tables import (
    alert_deliveries,
    alert_history,
    alert_protected_optins,
    alert_suppressions,
    alerts,
)
from vigil.db.uow import UnitOfWork
from vigil.engine.events import EngineEvent, EventKind, EventPhase
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.people import protected_details
from vigil.security import audit
from vigil.security.model import PermissionDenied, Principal
from vigil.text import ascii_digits

SYSTEM_ACTOR = "system:alerts"
MAX_NOTE = 4000


@dataclass
class AlertContext:
    """What the use cases need besides the unit of work: the registry lookups and settings."""

    directory: Directory
    settings: AlertSettings = field(default_factory=AlertSettings)
    public_base_url: str = "http://127.0.0.1:8000"

    def __post_init__(self) -> None:
        self.policy: EscalationPolicy = self.settings.escalation_policy()
        self.hours: WorkingHours = self.settings.working_hours()
        self.pattern: PatternRule = self.settings.pattern_rule()


# ---------------------------------------------------------------------------------------------
# Engine events in


def handle_event(uow: UnitOfWork, event: EngineEvent, ctx: AlertContext) -> list[AlertChange]:
    """Open, update or close the alert of the event's episode; returns the changes made."""
    conn = uow.connection
    if event.kind is EventKind.APPROACH_WARNING:
        return _handle_approach_warning(uow, event, ctx)
    existing = conn.execute(select(alerts).where(alerts.c.episode_id == event.episode_id)).first()
    if existing is not None:
        return [_update_from_event(uow, existing, event)]
    if _suppressed(uow, event):
        return []
    case = ctx.directory.case(uow, event.person_id)
    severity = severity_for(event.kind.value, case.risk_level if case else None, event.detail)
    change = _raise(
        uow,
        ctx,
        episode_id=event.episode_id,
        source=AlertSource.EPISODE,
        kind=event.kind.value,
        severity=severity,
        person_id=event.person_id,
        condition_id=event.condition_id,
        case=case,
        started_at=event.start,
        ended_at=event.end if event.phase is EventPhase.ENDED else None,
        raised_at=event.raised_at,
        retrospective=event.retrospective,
        lat=event.lat,
        lon=event.lon,
        detail={**event.detail, "fix_ids": list(event.fix_ids), "device_id": event.device_id},
    )
    return [change]


def _update_from_event(uow: UnitOfWork, row: Row[Any], event: EngineEvent) -> AlertChange:
    now = uow.clock.now()
    values: dict[str, Any] = {"updated_at": now}
    if event.lat is not None and event.lon is not None:
        values.update(lat=event.lat, lon=event.lon)
    detail = dict(row.detail)
    detail.update(event.detail)
    detail["fix_ids"] = sorted(set(detail.get("fix_ids", [])) | set(event.fix_ids))
    values["detail"] = detail
    action = HistoryAction.UPDATED
    if event.phase is EventPhase.ENDED:
        action = HistoryAction.EPISODE_ENDED
        values["ended_at"] = event.end or event.raised_at
    uow.connection.execute(update(alerts).where(alerts.c.id == row.id).values(**values))
    status = AlertStatus(row.status)
    history_id = _history(
        uow,
        row.id,
        SYSTEM_ACTOR,
        action,
        status,
        status,
        note=None,
        detail={"phase": event.phase.value, **_safe_detail(event.detail)},
    )
    return _change(row, history_id, action, now, status=status)


def _safe_detail(detail: dict[str, Any]) -> dict[str, Any]:
    # History shows what the engine said, minus anything bulky.
    return {k: v for k, v in detail.items() if isinstance(v, str | int | float | bool)}


def _suppressed(uow: UnitOfWork, event: EngineEvent) -> bool:
    """An expected event inside a suppression window raises nothing; the skip is audited."""
    rows = uow.connection.execute(
        select(alert_suppressions).where(
            alert_suppressions.c.person_id == event.person_id,
            alert_suppressions.c.cancelled_at.is_(None),
            alert_suppressions.c.starts_at <= event.start,
            alert_suppressions.c.ends_at > event.start,
        )
    ).all()
    for row in rows:
        window = SuppressionWindow(
            person_id=row.person_id,
            condition_id=row.condition_id,
            kind=SuppressionKind(row.kind),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
        )
        if window.covers(event.kind.value, event.person_id, event.condition_id, event.start):
            audit.record(
                uow.connection,
                at=uow.clock.now(),
                actor=SYSTEM_ACTOR,
                action="alert.suppressed",
                subject_type="alert_suppression",
                subject_id=row.id,
                detail={
                    "episode_id": event.episode_id,
                    "kind": event.kind.value,
                    "person_id": event.person_id,
                    "condition_id": event.condition_id,
                },
            )
            return True
    return False


def _handle_approach_warning(
    uow: UnitOfWork, event: EngineEvent, ctx: AlertContext
) -> list[AlertChange]:
    """Approach warnings are counted, not alerted one by one; enough of them on the same
    condition within the rule's days raise one pattern alert to the officer."""
    if event.phase is not EventPhase.STARTED or _suppressed(uow, event):
        return []
    conn = uow.connection
    patterns.record_warning(uow, event)
    times = patterns.recent_warnings(
        uow, ctx.pattern, event.person_id, event.condition_id, event.start
    )
    if not ctx.pattern.is_pattern(times, event.start):
        return []
    open_pattern = patterns.open_pattern_alert(uow, event.person_id, event.condition_id)
    detail = {"warnings": len(times), "within_days": ctx.pattern.within.days}
    if open_pattern is not None:
        # Raised once: a further warning only adds to the open pattern alert's history.
        now = uow.clock.now()
        conn.execute(
            update(alerts)
            .where(alerts.c.id == open_pattern.id)
            .values(updated_at=now, detail={**open_pattern.detail, **detail})
        )
        status = AlertStatus(open_pattern.status)
        history_id = _history(
            uow, open_pattern.id, SYSTEM_ACTOR, HistoryAction.UPDATED, status, status, None, detail
        )
        return [_change(open_pattern, history_id, HistoryAction.UPDATED, now, status=status)]
    case = ctx.directory.case(uow, event.person_id)
    change = _raise(
        uow,
        ctx,
        episode_id=f"pattern:{event.episode_id}",
        source=AlertSource.PATTERN,
        kind=APPROACH_PATTERN_KIND,
        severity=severity_for(APPROACH_PATTERN_KIND, case.risk_level if case else None),
        person_id=event.person_id,
        condition_id=event.condition_id,
        case=case,
        started_at=min(times),
        ended_at=None,
        raised_at=event.raised_at,
        retrospective=event.retrospective,
        lat=None,
        lon=None,
        detail=detail,
    )
    return [change]


def _raise(
    uow: UnitOfWork,
    ctx: AlertContext,
    *,
    episode_id: str,
    source: AlertSource,
    kind: str,
    severity: Severity,
    person_id: str,
    condition_id: str | None,
    case: CaseInfo | None,
    started_at: datetime,
    ended_at: datetime | None,
    raised_at: datetime,
    retrospective: bool,
    lat: float | None,
    lon: float | None,
    detail: dict[str, Any],
) -> AlertChange:
    now = uow.clock.now()
    conn = uow.connection
    # Where the wearer is decides the police force; without a position, his own force area.
    force_area = None
    if lat is not None and lon is not None:
        force_area = ctx.directory.force_area_at(uow, lat, lon)
    if force_area is None and case is not None:
        force_area = case.force_area
    alert_id = conn.execute(
        insert(alerts)
        .values(
            episode_id=episode_id,
            source=source.value,
            kind=kind,
            severity=severity.value,
            status=AlertStatus.NEW.value,
            escalated=False,
            escalation_level=0,
            next_escalation_at=ctx.policy.deadline_after(severity, now),
            person_id=person_id,
            condition_id=condition_id,
            managing_team_id=case.managing_team_id if case else None,
            force_area=force_area,
            risk_level=case.risk_level if case else None,
            started_at=started_at,
            ended_at=ended_at,
            raised_at=raised_at,
            retrospective=retrospective,
            lat=lat,
            lon=lon,
            detail=detail,
            created_at=now,
            updated_at=now,
        )
        .returning(alerts.c.id)
    ).scalar_one()
    history_id = _history(
        uow,
        alert_id,
        SYSTEM_ACTOR,
        HistoryAction.RAISED,
        None,
        AlertStatus.NEW,
        None,
        {"severity": severity.value, "retrospective": retrospective},
    )
    audit.record(
        conn,
        at=now,
        actor=SYSTEM_ACTOR,
        action="alert.raise",
        subject_type="alert",
        subject_id=alert_id,
        detail={"kind": kind, "severity": severity.value, "person_id": person_id},
    )
    tiers = initial_tiers(kind, severity, now, ctx.hours)
    snapshot = _Snapshot(
        alert_id, kind, severity, person_id, condition_id, force_area, started_at, lat, lon
    )
    _plan_deliveries(uow, ctx, snapshot, tiers, case, event_key="raised")
    return AlertChange(
        alert_id=alert_id,
        history_id=history_id,
        action=HistoryAction.RAISED,
        status=AlertStatus.NEW,
        severity=severity,
        kind=kind,
        person_id=person_id,
        managing_team_id=case.managing_team_id if case else None,
        force_area=force_area,
        escalated=False,
        escalation_level=0,
        at=now,
    )


@dataclass(frozen=True)
class _Snapshot:
    alert_id: int
    kind: str
    severity: Severity
    person_id: str
    condition_id: str | None
    force_area: str | None
    started_at: datetime
    lat: float | None
    lon: float | None


def _plan_deliveries(
    uow: UnitOfWork,
    ctx: AlertContext,
    alert: _Snapshot,
    tiers: frozenset[Tier],
    case: CaseInfo | None,
    *,
    event_key: str,
) -> list[Recipient]:
    control_room: ControlRoom | None = None
    if Tier.POLICE_CONTROL_ROOM in tiers and alert.force_area:
        control_room = ctx.directory.control_room(uow, alert.force_area)
    protected: list[ProtectedRef] = []
    if tiers & {Tier.POLICE_CONTROL_ROOM, Tier.PROTECTED_PERSON}:
        protected = ctx.directory.protected_persons(uow, alert.person_id, alert.condition_id)
    recipients = recipients_for(
        tiers, alert.severity, case, control_room, protected, ctx.settings.monitoring_centre_email
    )
    planned: list[Recipient] = []
    for recipient in recipients:
        if recipient.tier is Tier.PROTECTED_PERSON and _recently_told(
            uow, recipient.address, ctx.settings.protected_person_min_interval_s
        ):
            continue
        outbox.enqueue(
            uow,
            channel=recipient.channel,
            recipient=recipient.address,
            subject=_subject(alert, event_key),
            body=_body(ctx, alert, recipient, protected, event_key),
            idempotency_key=f"alert:{alert.alert_id}:{event_key}:{recipient.key}",
            alert_id=alert.alert_id,
        )
        planned.append(recipient)
    return planned


def _recently_told(uow: UnitOfWork, protected_person_id: str, interval_s: int) -> bool:
    since = uow.clock.now() - timedelta(seconds=interval_s)
    found = uow.connection.execute(
        select(alert_deliveries.c.id)
        .where(
            alert_deliveries.c.channel == "protected_person",
            alert_deliveries.c.recipient == protected_person_id,
            alert_deliveries.c.created_at > since,
        )
        .limit(1)
    ).first()
    return found is not None


def _subject(alert: _Snapshot, event_key: str) -> str:
    label = alert.kind.replace("_", " ")
    prefix = "ESCALATED " if event_key.startswith("escalation") else ""
    return f"{prefix}{alert.severity.value.upper()} alert {alert.alert_id}: {label}"


def _body(
    ctx: AlertContext,
    alert: _Snapshot,
    recipient: Recipient,
    protected: list[ProtectedRef],
    event_key: str,
) -> dict[str, Any]:
    if recipient.tier is Tier.PROTECTED_PERSON:
        # Nothing about the wearer: the channel sends fixed text; the body only says which alert.
        return {"alert_id": alert.alert_id}
    base = ctx.public_base_url.rstrip("/")
    # People follow the link to the alert's page; systems (a control room's webhook) read "api".
    link = f"{base}/monitoring/alerts/{alert.alert_id}"
    # Local time with its zone (GMT or BST), as people read it; started_at below stays UTC.
    local_start = alert.started_at.astimezone(ctx.hours.tz).strftime("%d %b %Y %H:%M %Z")
    text = (
        f"{_subject(alert, event_key)} for person {alert.person_id}, since {local_start}. "
        f"Acknowledge it in Vigil: {link}"
    )
    body: dict[str, Any] = {
        "text": text,
        "alert_id": alert.alert_id,
        "event": event_key,
        "kind": alert.kind,
        "severity": alert.severity.value,
        "person_id": alert.person_id,
        "started_at": alert.started_at.isoformat(),
        "link": link,
        "api": f"{base}/api/alerts/{alert.alert_id}",
    }
    if recipient.tier is Tier.POLICE_CONTROL_ROOM:
        # Police dispatch needs the position and the victim's safety context; the context is
        # fetched from the registry at send time (audited) so it is never stored in the outbox.
        body.update(
            lat=alert.lat,
            lon=alert.lon,
            force_area=alert.force_area,
            safety_context_for=[ref.id for ref in protected],
        )
    return body


def _history(
    uow: UnitOfWork,
    alert_id: int,
    actor: str,
    action: HistoryAction,
    from_status: AlertStatus | None,
    to_status: AlertStatus,
    note: str | None,
    detail: dict[str, Any],
) -> int:
    history_id: int = uow.connection.execute(
        insert(alert_history)
        .values(
            alert_id=alert_id,
            at=uow.clock.now(),
            actor=actor,
            action=action.value,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value,
            note=note,
            detail=detail,
        )
        .returning(alert_history.c.id)
    ).scalar_one()
    return history_id


def _change(
    row: Row[Any],
    history_id: int,
    action: HistoryAction,
    at: datetime,
    *,
    status: AlertStatus | None = None,
    escalated: bool | None = None,
    escalation_level: int | None = None,
) -> AlertChange:
    return AlertChange(
        alert_id=row.id,
        history_id=history_id,
        action=action,
        status=status or AlertStatus(row.status),
        severity=Severity(row.severity),
        kind=row.kind,
        person_id=row.person_id,
        managing_team_id=row.managing_team_id,
        force_area=row.force_area,
        escalated=row.escalated if escalated is None else escalated,
        escalation_level=row.escalation_level if escalation_level is None else escalation_level,
        at=at,
    )


# ---------------------------------------------------------------------------------------------
# People acting on alerts


def _visible(principal: Principal, row: Row[Any]) -> bool:
    return visible_to(
        principal,
        severity=Severity(row.severity),
        escalation_level=row.escalation_level,
        managing_team_id=row.managing_team_id,
        force_area=row.force_area,
    )


def _load_for(uow: UnitOfWork, principal: Principal, alert_id: int) -> Row[Any]:
    if principal.role not in ALERT_ROLES:
        raise PermissionDenied(f"role {principal.role} does not work with alerts")
    row = uow.connection.execute(select(alerts).where(alerts.c.id == alert_id)).first()
    if row is None or not _visible(principal, row):
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
    history_id = _history(
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
    return _change(
        row,
        history_id,
        action,
        now,
        status=alert.status,
        escalated=alert.escalated,
        escalation_level=alert.escalation_level,
    )


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
    snapshot = _Snapshot(
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
    _plan_deliveries(uow, ctx, snapshot, tiers, case, event_key=f"escalation:{level}")
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
    if principal.role not in RESOLVE_ROLES:
        raise PermissionDenied(f"role {principal.role} may not resolve alerts")
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
    history_id = _history(
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
    return _change(row, history_id, HistoryAction.NOTE, now)


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class AlertFilter:
    status: list[AlertStatus] = field(default_factory=list)
    severity: list[Severity] = field(default_factory=list)
    person_id: str | None = None
    escalated: bool | None = None
    since: datetime | None = None
    limit: int = 100


def list_alerts(uow: UnitOfWork, principal: Principal, flt: AlertFilter) -> list[dict[str, Any]]:
    if principal.role not in ALERT_ROLES:
        raise PermissionDenied(f"role {principal.role} does not work with alerts")
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
    return [alert_json(row) for row in rows if _visible(principal, row)]


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


def get_alert(uow: UnitOfWork, principal: Principal, alert_id: int) -> dict[str, Any]:
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
    out = alert_json(row)
    out["history"] = [
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
    out["deliveries"] = [
        {
            "channel": d.channel,
            "status": d.status,
            "attempts": d.attempts,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            "last_error": d.last_error,
        }
        for d in deliveries
    ]
    return out


def alert_json(row: Row[Any]) -> dict[str, Any]:
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
        "started_at": iso(row.started_at),
        "ended_at": iso(row.ended_at),
        "raised_at": iso(row.raised_at),
        "retrospective": row.retrospective,
        "lat": row.lat,
        "lon": row.lon,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "acknowledged_at": iso(row.acknowledged_at),
        "acknowledged_by": row.acknowledged_by,
        "claimed_by": row.claimed_by,
        "claimed_at": iso(row.claimed_at),
        "resolved_at": iso(row.resolved_at),
        "resolved_by": row.resolved_by,
        "outcome": row.outcome,
        "resolution_note": row.resolution_note,
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


# ---------------------------------------------------------------------------------------------
# Suppression windows


def add_suppression(
    uow: UnitOfWork,
    principal: Principal,
    ctx: AlertContext,
    *,
    person_id: str,
    condition_id: str | None,
    order_id: str | None,
    kind: str,
    reason: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> int:
    """Record an authorised absence or other expected window on a person's order; audited."""
    if principal.role not in SUPPRESSION_ROLES:
        raise PermissionDenied(f"role {principal.role} may not record suppression windows")
    errors = ErrorCollector()
    errors.check(bool(person_id.strip()), "person_id", "is required")
    try:
        kind_value = SuppressionKind(kind)
    except ValueError:
        errors.add("kind", "must be one of " + ", ".join(k.value for k in SuppressionKind))
        kind_value = SuppressionKind.AUTHORISED_ABSENCE
    errors.check(bool(reason.strip()), "reason", "is required")
    errors.check(len(reason) <= MAX_NOTE, "reason", f"is longer than {MAX_NOTE} characters")
    errors.check(starts_at is not None, "starts_at", "is required")
    errors.check(ends_at is not None, "ends_at", "is required")
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is not None and value.tzinfo is None:
            errors.add(name, "must include a timezone offset")
    errors.raise_if_any()
    assert starts_at is not None
    assert ends_at is not None
    if ends_at <= starts_at:
        raise ValidationError("ends_at", "must be after starts_at")
    if ends_at - starts_at > timedelta(days=31):
        raise ValidationError(
            "ends_at", "a window may last at most 31 days; vary the order instead"
        )
    case = ctx.directory.case(uow, person_id)
    if case is None or not principal.can_see_person(case.managing_team_id, case.force_area):
        raise NotFound(f"person {person_id}")
    now = uow.clock.now()
    suppression_id: int = uow.connection.execute(
        insert(alert_suppressions)
        .values(
            person_id=person_id,
            condition_id=condition_id or None,
            order_id=order_id or None,
            kind=kind_value.value,
            reason=reason.strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=principal.actor,
            created_at=now,
        )
        .returning(alert_suppressions.c.id)
    ).scalar_one()
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="alert_suppression.create",
        subject_type="alert_suppression",
        subject_id=suppression_id,
        detail={
            "person_id": person_id,
            "condition_id": condition_id,
            "order_id": order_id,
            "kind": kind_value.value,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
        },
    )
    return suppression_id


def cancel_suppression(
    uow: UnitOfWork, principal: Principal, ctx: AlertContext, suppression_id: int
) -> None:
    if principal.role not in SUPPRESSION_ROLES:
        raise PermissionDenied(f"role {principal.role} may not change suppression windows")
    row = uow.connection.execute(
        select(alert_suppressions).where(alert_suppressions.c.id == suppression_id)
    ).first()
    case = ctx.directory.case(uow, row.person_id) if row is not None else None
    if (
        row is None
        or case is None
        or not principal.can_see_person(case.managing_team_id, case.force_area)
    ):
        raise NotFound(f"suppression {suppression_id}")
    if row.cancelled_at is not None:
        raise ValidationError("suppression_id", "is already cancelled")
    now = uow.clock.now()
    uow.connection.execute(
        update(alert_suppressions)
        .where(alert_suppressions.c.id == suppression_id)
        .values(cancelled_at=now, cancelled_by=principal.actor)
    )
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="alert_suppression.cancel",
        subject_type="alert_suppression",
        subject_id=suppression_id,
    )


def count_open(uow: UnitOfWork) -> int:
    found: int = uow.connection.execute(
        select(func.count())
        .select_from(alerts)
        .where(alerts.c.status != AlertStatus.RESOLVED.value)
    ).scalar_one()
    return found


def set_protected_person_opt_in(
    uow: UnitOfWork, principal: Principal, protected_person_id: str, opted_in: bool
) -> None:
    """Record a protected person's choice to be told (or no longer told) about alerts; audited.

    Only staff who manage the case record it, on the protected person's word.
    """
    from vigil.people import service as people

    if principal.role not in SUPPRESSION_ROLES:
        raise PermissionDenied(f"role {principal.role} may not record notification choices")
    pid = int(protected_person_id) if ascii_digits(protected_person_id) else None
    owner = protected_details.protected_person_owner(uow, pid) if pid is not None else None
    if owner is None:
        raise NotFound(f"protected person {protected_person_id}")
    people.get_person(uow, principal, owner)  # NotFound outside the caseload
    now = uow.clock.now()
    table = alert_protected_optins
    values = {"opted_in": opted_in, "updated_at": now, "updated_by": principal.actor}
    exists = uow.connection.execute(
        select(table.c.protected_person_id).where(table.c.protected_person_id == str(pid))
    ).first()
    if exists:
        uow.connection.execute(
            update(table).where(table.c.protected_person_id == str(pid)).values(**values)
        )
    else:
        uow.connection.execute(insert(table).values(protected_person_id=str(pid), **values))
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="protected_person.alert_notifications",
        subject_type="protected_person",
        subject_id=pid,
        detail={"opted_in": opted_in},
    )
