"""Order use cases: create, vary, revoke and end orders; the monitoring plan for the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from vigil.db.uow import UnitOfWork
from vigil.devices import service as devices
from vigil.devices.model import HolderKind
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.logs import get_logger
from vigil.orders import eligibility
from vigil.orders.model import (
    CLOSING_KINDS,
    DA_PILOTS,
    Condition,
    ConditionType,
    OrderDraft,
    OrderStatus,
    Pilot,
    VersionKind,
    same_condition,
    status_at,
)
from vigil.orders.rules import check_dates, check_order, parse_conditions
from vigil.orders.tables import conditions, eligibility_decisions, order_versions, orders
from vigil.people import protected_details, reference_data
from vigil.people import service as people
from vigil.security import audit
from vigil.security.model import REGISTRY_ROLES, Principal, Role

ORDER_WRITE_ROLES = (Role.ADMIN, Role.PROBATION_OFFICER)
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


# --- reading ---------------------------------------------------------------------------------


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
    principal.require_role(*REGISTRY_ROLES)
    row = uow.connection.execute(select(orders).where(orders.c.id == order_id)).first()
    if row is None:
        raise NotFound(f"order {order_id}")
    people.get_person(uow, principal, row.person_id)  # NotFound when outside the caseload
    return _order_view(uow, row, uow.clock.now())


def _visible_person_ids(uow: UnitOfWork, principal: Principal, person_id: int | None) -> set[int]:
    """The persons in the principal's caseload, or just the one asked for (NotFound when it is
    outside the caseload, so its existence is not leaked)."""
    principal.require_role(*REGISTRY_ROLES)
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


# --- writing ---------------------------------------------------------------------------------


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
    principal.require_role(*ORDER_WRITE_ROLES)
    errors = ErrorCollector()
    parsed = check_order(draft, errors)
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
    uow.commit()
    return int(order_id)


def _latest_open(uow: UnitOfWork, principal: Principal, order_id: int) -> tuple[Any, Version]:
    principal.require_role(*ORDER_WRITE_ROLES)
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
    parsed = parse_conditions(conditions_in, errors)
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
    current = _conditions_of(uow, order_id, None)
    kept: set[int] = set()
    conn = uow.connection
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
    uow.commit()
    return number


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
    uow.commit()
    return number


# --- for other parts: what is in force -------------------------------------------------------


def active_orders_at(uow: UnitOfWork, at: datetime) -> list[tuple[int, int, list[Condition]]]:
    """(order id, person id, conditions) of every order in force at ``at``."""
    out = []
    for row in uow.connection.execute(
        select(orders).where(orders.c.starts_at <= at).order_by(orders.c.id)
    ).all():
        in_force = _in_force(_versions(uow, row.id), at)
        if in_force is None:
            continue
        if status_at(at, in_force.starts_at, in_force.ends_at, in_force.kind) is not (
            OrderStatus.ACTIVE
        ):
            continue
        out.append((row.id, row.person_id, _conditions_of(uow, row.id, in_force.number)))
    return out


def count_active_pilot_persons(
    uow: UnitOfWork, at: datetime, pilots: frozenset[Pilot]
) -> list[int]:
    """Person ids with an order of one of ``pilots`` in force at ``at``."""
    wanted = {p.value for p in pilots}
    pilot_of = {r.id: r.pilot for r in uow.connection.execute(select(orders.c.id, orders.c.pilot))}
    return sorted(
        {
            person
            for order_id, person, _ in active_orders_at(uow, at)
            if pilot_of[order_id] in wanted
        }
    )


def monitoring_plan(
    uow: UnitOfWork, at: datetime, *, timezone: str = "Europe/London"
) -> dict[str, Any]:
    """Every monitored person's devices and conditions in force at ``at``.

    The shape is the SCENARIO.json of ``vigil replay`` (docs/replay.md): ids are strings, devices
    are external ids, a proximity condition names the protected person's device. A proximity
    condition whose protected person holds no device at ``at`` cannot be enforced and is left out
    (and logged), so the plan never names a device that does not exist. ``timezone`` is the
    service's local time zone (``settings.timezone``) in which timetables are read.
    """
    held = devices.devices_at(uow, at)
    by_person: dict[int, list[dict[str, Any]]] = {}
    for order_id, person_id, in_force in active_orders_at(uow, at):
        items = by_person.setdefault(person_id, [])
        for condition in in_force:
            item: dict[str, Any] = {
                "id": str(condition.id),
                "order": str(order_id),
                **condition.params,
            }
            if condition.type is ConditionType.PROXIMITY:
                protected = int(condition.params["protected_person_id"])
                victim_devices = held.get((HolderKind.PROTECTED_PERSON, protected), [])
                if not victim_devices:
                    log.warning(
                        "plan.proximity_without_device",
                        condition=condition.id,
                        order=order_id,
                    )
                    continue
                item["device"] = victim_devices[0]
            if "protected_person_id" in item:
                item["protected_person"] = str(item.pop("protected_person_id"))
            items.append(item)
    persons_out = [
        {
            "id": str(person_id),
            "devices": held.get((HolderKind.PERSON, person_id), []),
            "conditions": items,
        }
        for person_id, items in sorted(by_person.items())
    ]
    return {"timezone": timezone, "at": at.isoformat(), "persons": persons_out}


# --- pilot eligibility -----------------------------------------------------------------------

ELIGIBILITY_ROLES = (Role.ADMIN, Role.PROBATION_OFFICER)


@dataclass(frozen=True)
class Decision:
    id: int
    person_id: int
    decided_at: datetime
    decided_by: str
    region_code: str | None
    eligible: bool
    outcomes: list[dict[str, Any]]
    proportionality_note: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person_id": self.person_id,
            "decided_at": self.decided_at.isoformat(),
            "decided_by": self.decided_by,
            "region_code": self.region_code,
            "eligible": self.eligible,
            "outcomes": self.outcomes,
            "proportionality_note": self.proportionality_note,
        }


def _decision(row: Any) -> Decision:
    return Decision(
        row.id,
        row.person_id,
        row.decided_at,
        row.decided_by,
        row.region_code,
        bool(row.eligible),
        list(row.outcomes),
        row.proportionality_note,
    )


def screen_for_pilot(
    uow: UnitOfWork,
    principal: Principal,
    *,
    person_id: int,
    domestic_abuse_sentence: bool,
    release_region_code: str | None,
    accommodation_viable: bool,
    proportionality_note: str,
    region_capacity: int,
) -> Decision:
    """Screen a person for the domestic-abuse pilot and record the decision with its reasons."""
    principal.require_role(*ELIGIBILITY_ROLES)
    person = people.get_person(uow, principal, person_id)
    errors = ErrorCollector()
    eligibility.check_note(proportionality_note, errors)
    region = release_region_code or person.region_code
    known = {r["code"] for r in reference_data.list_regions(uow)}
    if region is not None and region not in known:
        errors.add("release_region_code", f"unknown region {region!r}")
    errors.raise_if_any()
    now = uow.clock.now()
    monitored = [pid for pid in count_active_pilot_persons(uow, now, DA_PILOTS) if pid != person_id]
    caseload = people.count_persons_in_region(uow, region, monitored) if region else 0
    facts = eligibility.Screening(
        date_of_birth=person.date_of_birth,
        risk_level=person.risk_level,
        domestic_abuse_sentence=domestic_abuse_sentence,
        release_region_code=region,
        accommodation_viable=accommodation_viable,
        region_caseload=caseload,
        region_capacity=region_capacity,
        proportionality_note=proportionality_note.strip(),
    )
    local_today = now.date()
    outcomes = eligibility.screen(facts, local_today)
    decided = eligibility.eligible(outcomes)
    inputs = {
        "domestic_abuse_sentence": domestic_abuse_sentence,
        "release_region_code": region,
        "accommodation_viable": accommodation_viable,
        "risk_level": person.risk_level.value,
        "region_caseload": caseload,
        "region_capacity": region_capacity,
    }
    decision_id = uow.connection.execute(
        insert(eligibility_decisions)
        .values(
            person_id=person_id,
            decided_at=now,
            decided_by=principal.actor,
            region_code=region,
            eligible=decided,
            outcomes=[o.as_dict() for o in outcomes],
            inputs=inputs,
            proportionality_note=facts.proportionality_note,
        )
        .returning(eligibility_decisions.c.id)
    ).scalar_one()
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="eligibility.decide",
        subject_type="person",
        subject_id=person_id,
        detail={
            "decision_id": decision_id,
            "eligible": decided,
            "failed": [o.rule.value for o in outcomes if not o.passed],
        },
    )
    uow.commit()
    row = uow.connection.execute(
        select(eligibility_decisions).where(eligibility_decisions.c.id == decision_id)
    ).one()
    return _decision(row)


def list_decisions(
    uow: UnitOfWork, principal: Principal, person_id: int | None = None
) -> list[Decision]:
    ids = _visible_person_ids(uow, principal, person_id)
    if not ids:
        return []
    rows = uow.connection.execute(
        select(eligibility_decisions)
        .where(eligibility_decisions.c.person_id.in_(ids))
        .order_by(eligibility_decisions.c.id.desc())
    )
    return [_decision(row) for row in rows]
