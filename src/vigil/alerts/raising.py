"""Engine events in: an alert raised, updated or closed for each violation episode, suppression
windows honoured, and its deliveries planned by the routing rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update

from vigil.alerts import outbox, patterns
from vigil.alerts.kind_labels import kind_label
from vigil.alerts.model import (
    APPROACH_PATTERN_KIND,
    AlertChange,
    AlertSource,
    AlertStatus,
    HistoryAction,
    Severity,
    SuppressionKind,
    SuppressionWindow,
    Tier,
    severity_for,
)
from vigil.alerts.routing import (
    CaseInfo,
    ControlRoom,
    ProtectedRef,
    Recipient,
    initial_tiers,
    recipients_for,
)
from vigil.alerts.service import SYSTEM_ACTOR, AlertContext, change_of, write_history
from vigil.alerts.tables import (
    alert_deliveries,
    alert_suppressions,
    alerts,
)
from vigil.db.uow import UnitOfWork
from vigil.engine.events import EngineEvent, EventKind, EventPhase
from vigil.security import audit


def handle_event(uow: UnitOfWork, event: EngineEvent, ctx: AlertContext) -> list[AlertChange]:
    """Open, update or close the alert of the event's episode; returns the changes made."""
    if event.kind is EventKind.APPROACH_WARNING:
        return _handle_approach_warning(uow, event, ctx)
    existing = uow.connection.execute(
        select(alerts).where(alerts.c.episode_id == event.episode_id)
    ).first()
    if existing is not None:
        return [_update_from_event(uow, existing, event)]
    if _suppressed(uow, event):
        return []
    case = ctx.directory.case(uow, event.person_id)
    severity = severity_for(event.kind.value, case.risk_level if case else None, event.detail)
    change = raise_alert(
        uow,
        ctx,
        NewAlert(
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
        ),
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
    history_id = write_history(
        uow,
        row.id,
        SYSTEM_ACTOR,
        action,
        status,
        status,
        note=None,
        detail={"phase": event.phase.value, **_safe_detail(event.detail)},
    )
    return change_of(row, history_id, action, now, status=status)


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
    patterns.record_warning(uow, event)
    times = patterns.recent_warnings(
        uow, ctx.pattern, event.person_id, event.condition_id, event.start
    )
    if not ctx.pattern.is_pattern(times, event.start):
        return []
    open_pattern = patterns._open_pattern_alert(uow, event.person_id, event.condition_id)
    detail = {"warnings": len(times), "within_days": ctx.pattern.within.days}
    if open_pattern is not None:
        # Raised once: a further warning only adds to the open pattern alert's history.
        return [_add_to_pattern(uow, open_pattern, detail)]
    case = ctx.directory.case(uow, event.person_id)
    change = raise_alert(
        uow,
        ctx,
        NewAlert(
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
        ),
    )
    return [change]


def _add_to_pattern(uow: UnitOfWork, open_pattern: Row[Any], detail: dict[str, Any]) -> AlertChange:
    now = uow.clock.now()
    uow.connection.execute(
        update(alerts)
        .where(alerts.c.id == open_pattern.id)
        .values(updated_at=now, detail={**open_pattern.detail, **detail})
    )
    status = AlertStatus(open_pattern.status)
    history_id = write_history(
        uow, open_pattern.id, SYSTEM_ACTOR, HistoryAction.UPDATED, status, status, None, detail
    )
    return change_of(open_pattern, history_id, HistoryAction.UPDATED, now, status=status)


@dataclass(frozen=True)
class NewAlert:
    """What an alert is raised with: its episode, who and what it is about, when and where."""

    episode_id: str
    source: AlertSource
    kind: str
    severity: Severity
    person_id: str
    condition_id: str | None
    case: CaseInfo | None
    started_at: datetime
    ended_at: datetime | None
    raised_at: datetime
    retrospective: bool
    lat: float | None
    lon: float | None
    detail: dict[str, Any]


def raise_alert(uow: UnitOfWork, ctx: AlertContext, new: NewAlert) -> AlertChange:
    """Store a new alert, its history and audit entry, and plan its deliveries by routing."""
    now = uow.clock.now()
    force_area = _force_area(uow, ctx, new)
    alert_id = _insert_alert(uow, ctx, new, force_area, now)
    history_id = write_history(
        uow,
        alert_id,
        SYSTEM_ACTOR,
        HistoryAction.RAISED,
        None,
        AlertStatus.NEW,
        None,
        {"severity": new.severity.value, "retrospective": new.retrospective},
    )
    audit.record(
        uow.connection,
        at=now,
        actor=SYSTEM_ACTOR,
        action="alert.raise",
        subject_type="alert",
        subject_id=alert_id,
        detail={"kind": new.kind, "severity": new.severity.value, "person_id": new.person_id},
    )
    tiers = initial_tiers(new.kind, new.severity, now, ctx.hours)
    snapshot = AlertSnapshot(
        alert_id,
        new.kind,
        new.severity,
        new.person_id,
        new.condition_id,
        force_area,
        new.started_at,
        new.lat,
        new.lon,
    )
    plan_deliveries(uow, ctx, snapshot, tiers, new.case, event_key="raised")
    return AlertChange(
        alert_id=alert_id,
        history_id=history_id,
        action=HistoryAction.RAISED,
        status=AlertStatus.NEW,
        severity=new.severity,
        kind=new.kind,
        person_id=new.person_id,
        managing_team_id=new.case.managing_team_id if new.case else None,
        force_area=force_area,
        escalated=False,
        escalation_level=0,
        at=now,
    )


def _force_area(uow: UnitOfWork, ctx: AlertContext, new: NewAlert) -> str | None:
    # Where the wearer is decides the police force; without a position, his own force area.
    force_area = None
    if new.lat is not None and new.lon is not None:
        force_area = ctx.directory.force_area_at(uow, new.lat, new.lon)
    if force_area is None and new.case is not None:
        force_area = new.case.force_area
    return force_area


def _insert_alert(
    uow: UnitOfWork, ctx: AlertContext, new: NewAlert, force_area: str | None, now: datetime
) -> int:
    case = new.case
    alert_id = uow.connection.execute(
        insert(alerts)
        .values(
            episode_id=new.episode_id,
            source=new.source.value,
            kind=new.kind,
            severity=new.severity.value,
            status=AlertStatus.NEW.value,
            escalated=False,
            escalation_level=0,
            next_escalation_at=ctx.policy.deadline_after(new.severity, now),
            person_id=new.person_id,
            condition_id=new.condition_id,
            managing_team_id=case.managing_team_id if case else None,
            force_area=force_area,
            risk_level=case.risk_level if case else None,
            started_at=new.started_at,
            ended_at=new.ended_at,
            raised_at=new.raised_at,
            retrospective=new.retrospective,
            lat=new.lat,
            lon=new.lon,
            detail=new.detail,
            created_at=now,
            updated_at=now,
        )
        .returning(alerts.c.id)
    ).scalar_one()
    return int(alert_id)


@dataclass(frozen=True)
class AlertSnapshot:
    alert_id: int
    kind: str
    severity: Severity
    person_id: str
    condition_id: str | None
    force_area: str | None
    started_at: datetime
    lat: float | None
    lon: float | None


def plan_deliveries(
    uow: UnitOfWork,
    ctx: AlertContext,
    alert: AlertSnapshot,
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
            body=_body(ctx, alert, recipient, protected, event_key, case),
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


def _subject(alert: AlertSnapshot, event_key: str) -> str:
    label = kind_label(alert.kind)
    prefix = "ESCALATED " if event_key.startswith("escalation") else ""
    return f"{prefix}{alert.severity.value.upper()} alert {alert.alert_id}: {label}"


def _wearer(case: CaseInfo | None) -> str:
    """The wearer as staff know them, by CRN: an e-mail leaves Vigil, so it names no one."""
    return f"CRN {case.crn}" if case and case.crn else "a wearer without a CRN"


def _body(
    ctx: AlertContext,
    alert: AlertSnapshot,
    recipient: Recipient,
    protected: list[ProtectedRef],
    event_key: str,
    case: CaseInfo | None,
) -> dict[str, Any]:
    if recipient.tier is Tier.PROTECTED_PERSON:
        # Nothing about the wearer: the channel sends fixed text; the body only says which alert.
        return {"alert_id": alert.alert_id}
    base = ctx.public_base_url.rstrip("/")
    # People follow the link to the alert's page; systems (a control room's webhook) read "api".
    link = f"{base}/alerts/{alert.alert_id}"
    # Local time with its zone (GMT or BST), as people read it; started_at below stays UTC.
    local_start = alert.started_at.astimezone(ctx.hours.tz).strftime("%d %b %Y %H:%M %Z")
    text = (
        f"{_subject(alert, event_key)} for {_wearer(case)}, since {local_start}. "
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
