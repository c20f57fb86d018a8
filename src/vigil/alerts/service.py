"""Alert use cases. Each takes a UnitOfWork; the alert change, its history, its audit entry and
its pending deliveries are written in that one transaction.

Callers commit and then publish the returned ``AlertChange``s on ``Topic.ALERTS`` (live pages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from vigil.alerts.config import AlertSettings
from vigil.alerts.model import (
    AlertChange,
    AlertStatus,
    EscalationPolicy,
    HistoryAction,
    PatternRule,
    Severity,
    WorkingHours,
)
from vigil.alerts.routing import (
    Directory,
)
from vigil.alerts.tables import (
    alert_history,
    alert_protected_optins,
)
from vigil.db.uow import UnitOfWork
from vigil.errors import NotFound
from vigil.people import protected_details
from vigil.security import audit, permissions
from vigil.security.model import Principal
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


def write_history(
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


def change_of(
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


def set_protected_person_opt_in(
    uow: UnitOfWork, principal: Principal, protected_person_id: str, opted_in: bool
) -> None:
    """Record a protected person's choice to be told (or no longer told) about alerts; audited.

    Only staff who manage the case record it, on the protected person's word.
    """
    from vigil.people import service as people

    principal.require(permissions.NOTIFICATION_CHOICES)
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
