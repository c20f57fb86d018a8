"""Suppression windows: a planned absence (a hospital stay, a court visit) during which a
condition's violations raise no alert; every window is audited."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from vigil.alerts.model import (
    SuppressionKind,
)
from vigil.alerts.service import MAX_NOTE, AlertContext
from vigil.alerts.tables import (
    alert_suppressions,
)
from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.security import audit, permissions
from vigil.security.model import Principal


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
    principal.require(permissions.SUPPRESSIONS_MANAGE)
    kind_value, starts_at, ends_at = _checked_window(person_id, kind, reason, starts_at, ends_at)
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


def _checked_window(
    person_id: str,
    kind: str,
    reason: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> tuple[SuppressionKind, datetime, datetime]:
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
    return kind_value, starts_at, ends_at


def cancel_suppression(
    uow: UnitOfWork, principal: Principal, ctx: AlertContext, suppression_id: int
) -> None:
    principal.require(permissions.SUPPRESSIONS_MANAGE)
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
