"""Order use cases: create, vary, revoke and end orders; the monitoring plan for the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.logs import get_logger
from vigil.orders.model import (
    CLOSING_KINDS,
    Condition,
    ConditionType,
    OrderDraft,
    OrderStatus,
    Pilot,
    VersionKind,
    same_condition,
    status_at,
)
from vigil.orders.rules import check_dates, conditions_json, order_conditions_json
from vigil.orders.tables import conditions, order_versions, orders
from vigil.people import protected_details, reference_data
from vigil.people import service as people
from vigil.security import audit, permissions
from vigil.security.model import Principal

log = get_logger(__name__)


@dataclass(frozen=True)
class Version:
    number: int
    kind: VersionKind
    effective_at: datetime
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    created_at: datetime
    created_by: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind.value,
            "effective_at": self.effective_at.isoformat(),
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


@dataclass(frozen=True)
class OrderView:
    id: int
    person_id: int
    pilot: Pilot
    responsible_officer_id: int | None
    starts_at: datetime
    ends_at: datetime
    status: OrderStatus
    version: int
    conditions: list[Condition]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person_id": self.person_id,
            "pilot": self.pilot.value,
            "responsible_officer_id": self.responsible_officer_id,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "status": self.status.value,
            "version": self.version,
            "conditions": [c.as_dict() for c in self.conditions],
        }


def _versions(uow: UnitOfWork, order_id: int) -> list[Version]:
    rows = uow.connection.execute(
        select(order_versions)
        .where(order_versions.c.order_id == order_id)
        .order_by(order_versions.c.number)
    )
    return [
        Version(
            r.number,
            VersionKind(r.kind),
            r.effective_at,
            r.starts_at,
            r.ends_at,
            r.reason,
            r.created_at,
            r.created_by,
        )
        for r in rows
    ]


def _in_force(versions: list[Version], at: datetime) -> Version | None:
    effective = [v for v in versions if v.effective_at <= at]
    return effective[-1] if effective else None


def _conditions_of(uow: UnitOfWork, order_id: int, version: int | None) -> list[Condition]:
    """Conditions in force under a version (None: those of the latest version)."""
    query = select(conditions).where(conditions.c.order_id == order_id)
    rows = uow.connection.execute(query.order_by(conditions.c.id)).all()
    out = []
    for r in rows:
        if version is None:
            live = r.removed_in_version is None
        else:
            live = r.added_in_version <= version and (
                r.removed_in_version is None or r.removed_in_version > version
            )
        if live:
            out.append(
                Condition(
                    r.id,
                    ConditionType(r.type),
                    dict(r.params),
                    r.added_in_version,
                    r.removed_in_version,
                )
            )
    return out


def _order_view(uow: UnitOfWork, row: Any, at: datetime) -> OrderView:
    versions = _versions(uow, row.id)
    latest = versions[-1]
    in_force = _in_force(versions, at)
    if in_force is None:
        status = OrderStatus.PENDING
    else:
        status = status_at(at, in_force.starts_at, in_force.ends_at, in_force.kind)
    return OrderView(
        id=row.id,
        person_id=row.person_id,
        pilot=Pilot(row.pilot),
        responsible_officer_id=row.responsible_officer_id,
        starts_at=latest.starts_at,
        ends_at=latest.ends_at,
        status=status,
        version=latest.number,
        conditions=_conditions_of(uow, row.id, None),
    )


def get_order(uow: UnitOfWork, principal: Principal, order_id: int) -> OrderView:
    principal.require(permissions.ORDERS_READ)
    row = uow.connection.execute(select(orders).where(orders.c.id == order_id)).first()
    if row is None:
        raise NotFound(f"order {order_id}")
    people.get_person(uow, principal, row.person_id)  # NotFound when outside the caseload
    return _order_view(uow, row, uow.clock.now())


def _visible_person_ids(uow: UnitOfWork, principal: Principal, person_id: int | None) -> set[int]:
    """The persons in the principal's caseload, or just the one asked for (NotFound when it is
    outside the caseload, so its existence is not leaked)."""
    principal.require(permissions.ORDERS_READ)
    if person_id is not None:
        people.get_person(uow, principal, person_id)
        return {person_id}
    return {p.id for p in people.list_persons(uow, principal)}


def list_orders(
    uow: UnitOfWork, principal: Principal, person_id: int | None = None
) -> list[OrderView]:
    ids = _visible_person_ids(uow, principal, person_id)
    if not ids:
        return []
    rows = uow.connection.execute(
        select(orders).where(orders.c.person_id.in_(ids)).order_by(orders.c.id)
    ).all()
    now = uow.clock.now()
    return [_order_view(uow, row, now) for row in rows]


def list_versions(uow: UnitOfWork, principal: Principal, order_id: int) -> list[Version]:
    get_order(uow, principal, order_id)
    return _versions(uow, order_id)


def _check_references(
    uow: UnitOfWork,
    principal: Principal,
    person_id: int,
    officer_id: int | None,
    parsed: list[dict[str, Any]],
    errors: ErrorCollector,
) -> None:
    try:
        people.get_person(uow, principal, person_id)
    except NotFound:
        errors.add("person_id", f"unknown person {person_id}")
        return
    if officer_id is not None and reference_data.get_officer(uow, officer_id) is None:
        errors.add("responsible_officer_id", f"unknown officer {officer_id}")
    for index, condition in enumerate(parsed):
        protected = condition.get("protected_person_id")
        if (
            protected is not None
            and protected_details.protected_person_owner(uow, protected) != person_id
        ):
            errors.add(
                f"conditions[{index}].protected_person_id",
                f"protected person {protected} is not protected from this person",
            )


def _add_version(
    uow: UnitOfWork,
    principal: Principal,
    order_id: int,
    number: int,
    kind: VersionKind,
    effective_at: datetime,
    starts_at: datetime,
    ends_at: datetime,
    reason: str | None,
) -> None:
    uow.connection.execute(
        insert(order_versions).values(
            order_id=order_id,
            number=number,
            kind=kind.value,
            effective_at=effective_at,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            created_at=uow.clock.now(),
            created_by=principal.actor,
        )
    )


def create_order(uow: UnitOfWork, principal: Principal, draft: OrderDraft) -> int:
    """Record an order request (version 1) with its conditions."""
    principal.require(permissions.ORDERS_WRITE)
    errors = ErrorCollector()
    parsed = order_conditions_json(draft, errors)
    _check_references(uow, principal, draft.person_id, draft.responsible_officer_id, parsed, errors)
    errors.raise_if_any()
    now = uow.clock.now()
    conn = uow.connection
    order_id = conn.execute(
        insert(orders)
        .values(
            person_id=draft.person_id,
            pilot=Pilot(draft.pilot).value,
            responsible_officer_id=draft.responsible_officer_id,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            created_at=now,
            created_by=principal.actor,
        )
        .returning(orders.c.id)
    ).scalar_one()
    # A request is in force from when it is recorded; its conditions apply from starts_at.
    _add_version(
        uow, principal, order_id, 1, VersionKind.REQUEST, now, draft.starts_at, draft.ends_at, None
    )
    for condition in parsed:
        conn.execute(
            insert(conditions).values(
                order_id=order_id, type=condition["type"], params=condition, added_in_version=1
            )
        )
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="order.create",
        subject_type="order",
        subject_id=order_id,
        detail={
            "person_id": draft.person_id,
            "pilot": Pilot(draft.pilot).value,
            "conditions": [c["type"] for c in parsed],
        },
    )
    return int(order_id)


def _latest_open(uow: UnitOfWork, principal: Principal, order_id: int) -> tuple[Any, Version]:
    principal.require(permissions.ORDERS_WRITE)
    row = uow.connection.execute(select(orders).where(orders.c.id == order_id)).first()
    if row is None:
        raise NotFound(f"order {order_id}")
    people.get_person(uow, principal, row.person_id)
    latest = _versions(uow, order_id)[-1]
    if latest.kind in CLOSING_KINDS:
        raise ValidationError("order_id", f"the order was closed by a {latest.kind} version")
    return row, latest


def vary_order(
    uow: UnitOfWork,
    principal: Principal,
    order_id: int,
    *,
    conditions_in: list[Any],
    effective_at: datetime,
    reason: str,
    ends_at: datetime | None = None,
    starts_at: datetime | None = None,
) -> int:
    """A variation: the full new set of conditions; unchanged ones keep their identity."""
    row, latest = _latest_open(uow, principal, order_id)
    errors = ErrorCollector()
    parsed = conditions_json(conditions_in, errors)
    new_start = starts_at or latest.starts_at
    new_end = ends_at or latest.ends_at
    check_dates(new_start, new_end, errors)
    if effective_at.tzinfo is None:
        errors.add("effective_at", "must include a time zone")
    elif effective_at < latest.effective_at:
        errors.add("effective_at", "must not be before the version it varies")
    errors.check(bool(reason.strip()), "reason", "say why the order is varied")
    _check_references(uow, principal, row.person_id, row.responsible_officer_id, parsed, errors)
    errors.raise_if_any()
    number = latest.number + 1
    kept, removed = _apply_conditions(uow, order_id, number, parsed)
    conn = uow.connection
    _add_version(
        uow,
        principal,
        order_id,
        number,
        VersionKind.VARIATION,
        effective_at,
        new_start,
        new_end,
        reason.strip(),
    )
    conn.execute(
        update(orders).where(orders.c.id == order_id).values(starts_at=new_start, ends_at=new_end)
    )
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=principal.actor,
        action="order.vary",
        subject_type="order",
        subject_id=order_id,
        detail={"version": number, "kept": sorted(kept), "removed": removed},
    )
    return number


def _apply_conditions(
    uow: UnitOfWork, order_id: int, number: int, parsed: list[dict[str, Any]]
) -> tuple[set[int], list[int]]:
    """Version ``number``'s conditions: a condition unchanged keeps its identity (and so its
    open episodes), a new one is added, one no longer listed is marked removed."""
    conn = uow.connection
    current = _conditions_of(uow, order_id, None)
    kept: set[int] = set()
    for condition in parsed:
        match = next(
            (c for c in current if c.id not in kept and same_condition(c.params, condition)),
            None,
        )
        if match is not None:
            kept.add(match.id)
            continue
        conn.execute(
            insert(conditions).values(
                order_id=order_id, type=condition["type"], params=condition, added_in_version=number
            )
        )
    removed = [c.id for c in current if c.id not in kept]
    if removed:
        conn.execute(
            update(conditions).where(conditions.c.id.in_(removed)).values(removed_in_version=number)
        )
    return kept, removed


def close_order(
    uow: UnitOfWork,
    principal: Principal,
    order_id: int,
    *,
    kind: VersionKind,
    effective_at: datetime,
    reason: str,
) -> int:
    """Revoke an order, or end its monitoring, from a moment on."""
    if kind not in CLOSING_KINDS:
        raise ValidationError("kind", f"must be one of {', '.join(sorted(CLOSING_KINDS))}")
    _, latest = _latest_open(uow, principal, order_id)
    errors = ErrorCollector()
    if effective_at.tzinfo is None:
        errors.add("effective_at", "must include a time zone")
    elif effective_at < latest.effective_at:
        errors.add("effective_at", "must not be before the version it closes")
    errors.check(bool(reason.strip()), "reason", f"say why the order has a {kind}")
    errors.raise_if_any()
    number = latest.number + 1
    _add_version(
        uow,
        principal,
        order_id,
        number,
        kind,
        effective_at,
        latest.starts_at,
        latest.ends_at,
        reason.strip(),
    )
    uow.connection.execute(
        update(conditions)
        .where(conditions.c.order_id == order_id, conditions.c.removed_in_version.is_(None))
        .values(removed_in_version=number)
    )
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action=f"order.{kind.value}",
        subject_type="order",
        subject_id=order_id,
        detail={"version": number, "effective_at": effective_at.isoformat()},
    )
    return number
