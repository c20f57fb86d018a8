"""Device use cases: inventory, fitting and removal, and who held a device at a moment."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, insert, or_, select, update

from vigil.db.uow import UnitOfWork
from vigil.devices.model import (
    EXTERNAL_ID_RE,
    DeviceStatus,
    DeviceType,
    HolderKind,
    Span,
    holder_kind_for,
)
from vigil.devices.tables import device_allocations, devices
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.people import protected_details
from vigil.people import service as people
from vigil.security import audit, permissions
from vigil.security.model import NATIONAL_ROLES, Principal


@dataclass(frozen=True)
class Allocation:
    id: int
    device_id: int
    holder_kind: HolderKind
    holder_id: int
    fitted_at: datetime
    removed_at: datetime | None
    removal_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "device_id": self.device_id,
            "holder_kind": self.holder_kind.value,
            "holder_id": self.holder_id,
            "fitted_at": self.fitted_at.isoformat(),
            "removed_at": self.removed_at.isoformat() if self.removed_at else None,
            "removal_reason": self.removal_reason,
        }


@dataclass(frozen=True)
class DeviceView:
    id: int
    external_id: str
    type: DeviceType
    model: str | None
    status: DeviceStatus
    current: Allocation | None
    # The monitored person this device concerns now (the wearer, or whom its holder is protected
    # from), for scope checks and listing.
    person_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "external_id": self.external_id,
            "type": self.type.value,
            "model": self.model,
            "status": self.status.value,
            "current_allocation": self.current.as_dict() if self.current else None,
            "person_id": self.person_id,
        }


def _allocation(row: Any) -> Allocation:
    return Allocation(
        row.id,
        row.device_id,
        HolderKind(row.holder_kind),
        row.holder_id,
        row.fitted_at,
        row.removed_at,
        row.removal_reason,
    )


def _person_of(uow: UnitOfWork, kind: HolderKind, holder_id: int) -> int | None:
    if kind is HolderKind.PERSON:
        return holder_id
    return protected_details.protected_person_owner(uow, holder_id)


def register_device(
    uow: UnitOfWork,
    principal: Principal,
    *,
    external_id: str,
    device_type: DeviceType | str,
    model: str | None = None,
) -> int:
    principal.require(permissions.DEVICES_WRITE)
    external_id = external_id.strip()
    kind = _checked_registration(uow, external_id, device_type, model)
    now = uow.clock.now()
    device_id = uow.connection.execute(
        insert(devices)
        .values(
            external_id=external_id,
            type=kind.value,
            model=model,
            status=DeviceStatus.IN_STOCK.value,
            created_at=now,
        )
        .returning(devices.c.id)
    ).scalar_one()
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="device.register",
        subject_type="device",
        subject_id=device_id,
        detail={"external_id": external_id, "type": kind.value},
    )
    return int(device_id)


def _checked_registration(
    uow: UnitOfWork, external_id: str, device_type: DeviceType | str, model: str | None
) -> DeviceType:
    errors = ErrorCollector()
    if not EXTERNAL_ID_RE.match(external_id):
        errors.add("external_id", "must be 3 to 64 letters, digits or . _ : / - (e.g. an IMEI)")
    try:
        kind = DeviceType(device_type)
    except ValueError:
        errors.add("type", f"must be one of {', '.join(DeviceType)}")
        kind = None
    if model is not None and len(model) > 120:
        errors.add("model", "must be at most 120 characters")
    if (
        external_id
        and uow.connection.execute(
            select(devices.c.id).where(devices.c.external_id == external_id)
        ).first()
    ):
        errors.add("external_id", f"{external_id} is already registered")
    errors.raise_if_any()
    assert kind is not None
    return kind


def _current_allocations(uow: UnitOfWork, at: datetime) -> dict[int, Allocation]:
    rows = uow.connection.execute(
        select(device_allocations).where(
            device_allocations.c.fitted_at <= at,
            or_(device_allocations.c.removed_at.is_(None), device_allocations.c.removed_at > at),
        )
    )
    return {row.device_id: _allocation(row) for row in rows}


def _views(uow: UnitOfWork, rows: Sequence[Any]) -> list[DeviceView]:
    current = _current_allocations(uow, uow.clock.now())
    views = []
    for row in rows:
        allocation = current.get(row.id)
        person_id = (
            _person_of(uow, allocation.holder_kind, allocation.holder_id) if allocation else None
        )
        views.append(
            DeviceView(
                row.id,
                row.external_id,
                DeviceType(row.type),
                row.model,
                DeviceStatus(row.status),
                allocation,
                person_id,
            )
        )
    return views


def _visible(uow: UnitOfWork, principal: Principal, view: DeviceView) -> bool:
    if principal.role in NATIONAL_ROLES:
        return True
    if view.person_id is None:
        return False
    try:
        people.get_person(uow, principal, view.person_id)
    except NotFound:
        return False
    return True


def list_devices(
    uow: UnitOfWork, principal: Principal, person_id: int | None = None
) -> list[DeviceView]:
    """National roles see the whole inventory; officers and police the devices of their caseload."""
    principal.require(permissions.DEVICES_READ)
    rows = uow.connection.execute(select(devices).order_by(devices.c.external_id)).all()
    views = _views(uow, rows)
    if person_id is not None:
        people.get_person(uow, principal, person_id)
        views = [view for view in views if view.person_id == person_id]
    if principal.role in NATIONAL_ROLES:
        return views
    in_scope = {p.id for p in people.list_persons(uow, principal)}
    return [view for view in views if view.person_id in in_scope]


def get_device(uow: UnitOfWork, principal: Principal, device_id: int) -> DeviceView:
    principal.require(permissions.DEVICES_READ)
    row = uow.connection.execute(select(devices).where(devices.c.id == device_id)).first()
    if row is None:
        raise NotFound(f"device {device_id}")
    view = _views(uow, [row])[0]
    if not _visible(uow, principal, view):
        raise NotFound(f"device {device_id}")
    return view


def list_allocations(uow: UnitOfWork, principal: Principal, device_id: int) -> list[Allocation]:
    get_device(uow, principal, device_id)
    rows = uow.connection.execute(
        select(device_allocations)
        .where(device_allocations.c.device_id == device_id)
        .order_by(device_allocations.c.fitted_at)
    )
    return [_allocation(row) for row in rows]


def allocate(
    uow: UnitOfWork,
    principal: Principal,
    *,
    device_id: int,
    holder_kind: HolderKind | str,
    holder_id: int,
    fitted_at: datetime,
) -> int:
    """Fit a device to a person (or give a phone/watch to a protected person) from a moment on."""
    principal.require(permissions.DEVICES_WRITE)
    conn = uow.connection
    device = conn.execute(select(devices).where(devices.c.id == device_id)).first()
    if device is None:
        raise NotFound(f"device {device_id}")
    kind = _checked_holder(uow, principal, device, holder_kind, holder_id, fitted_at)
    _refuse_overlap(conn, device_id, fitted_at)
    allocation_id = conn.execute(
        insert(device_allocations)
        .values(
            device_id=device_id,
            holder_kind=kind.value,
            holder_id=holder_id,
            fitted_at=fitted_at,
            removed_at=None,
            created_by=principal.actor,
        )
        .returning(device_allocations.c.id)
    ).scalar_one()
    conn.execute(
        update(devices).where(devices.c.id == device_id).values(status=DeviceStatus.ALLOCATED.value)
    )
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=principal.actor,
        action="device.allocate",
        subject_type="device",
        subject_id=device_id,
        detail={
            "holder_kind": kind.value,
            "holder_id": holder_id,
            "fitted_at": fitted_at.isoformat(),
        },
    )
    return int(allocation_id)


def _checked_holder(
    uow: UnitOfWork,
    principal: Principal,
    device: Row[Any],
    holder_kind: HolderKind | str,
    holder_id: int,
    fitted_at: datetime,
) -> HolderKind:
    """The holder's kind, once the device fits that kind of holder and the caller may see them."""
    errors = ErrorCollector()
    try:
        kind = HolderKind(holder_kind)
    except ValueError:
        errors.add("holder_kind", f"must be one of {', '.join(HolderKind)}")
        errors.raise_if_any()
        raise
    expected = holder_kind_for(DeviceType(device.type))
    if kind is not expected:
        errors.add("holder_kind", f"a {device.type} is given to a {expected.value}")
    if fitted_at.tzinfo is None:
        errors.add("fitted_at", "must include a time zone")
    if DeviceStatus(device.status) in (DeviceStatus.FAULTY, DeviceStatus.RETIRED):
        errors.add("device_id", f"device is {device.status} and cannot be fitted")
    errors.raise_if_any()
    person_id = _person_of(uow, kind, holder_id)
    if person_id is None:
        raise ValidationError("holder_id", f"unknown {kind.value} {holder_id}")
    try:
        people.get_person(uow, principal, person_id)
    except NotFound as exc:
        raise ValidationError("holder_id", f"unknown {kind.value} {holder_id}") from exc
    return kind


def _refuse_overlap(conn: Connection, device_id: int, fitted_at: datetime) -> None:
    new = Span(fitted_at, None)
    for row in conn.execute(
        select(device_allocations).where(device_allocations.c.device_id == device_id)
    ):
        if new.overlaps(Span(row.fitted_at, row.removed_at)):
            raise ValidationError(
                "fitted_at",
                f"the device is allocated from {row.fitted_at.isoformat()}"
                + (f" to {row.removed_at.isoformat()}" if row.removed_at else " and not removed")
                + "; allocations may not overlap",
            )


def remove(
    uow: UnitOfWork,
    principal: Principal,
    *,
    device_id: int,
    removed_at: datetime,
    reason: str,
) -> None:
    """End a device's open allocation (removed, returned, or replaced as faulty)."""
    principal.require(permissions.DEVICES_WRITE)
    get_device(uow, principal, device_id)
    conn = uow.connection
    row = conn.execute(
        select(device_allocations).where(
            device_allocations.c.device_id == device_id,
            device_allocations.c.removed_at.is_(None),
        )
    ).first()
    errors = ErrorCollector()
    if row is None:
        errors.add("device_id", "the device is not allocated")
    errors.check(bool(reason.strip()), "reason", "say why the device was removed")
    errors.check(len(reason) <= 200, "reason", "must be at most 200 characters")
    if removed_at.tzinfo is None:
        errors.add("removed_at", "must include a time zone")
    elif row is not None and removed_at <= row.fitted_at:
        errors.add("removed_at", "must be after the device was fitted")
    errors.raise_if_any()
    assert row is not None
    conn.execute(
        update(device_allocations)
        .where(device_allocations.c.id == row.id)
        .values(removed_at=removed_at, removal_reason=reason.strip())
    )
    conn.execute(
        update(devices).where(devices.c.id == device_id).values(status=DeviceStatus.IN_STOCK.value)
    )
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=principal.actor,
        action="device.remove",
        subject_type="device",
        subject_id=device_id,
        detail={"allocation_id": row.id, "removed_at": removed_at.isoformat()},
    )


def holder_for_device(
    uow: UnitOfWork, external_id: str, at: datetime
) -> tuple[HolderKind, int] | None:
    """Who held the device at ``at``: a monitored person or a protected person."""
    row = uow.connection.execute(
        select(device_allocations.c.holder_kind, device_allocations.c.holder_id)
        .join(devices, devices.c.id == device_allocations.c.device_id)
        .where(
            devices.c.external_id == external_id,
            device_allocations.c.fitted_at <= at,
            or_(device_allocations.c.removed_at.is_(None), device_allocations.c.removed_at > at),
        )
    ).first()
    return None if row is None else (HolderKind(row.holder_kind), int(row.holder_id))


def person_for_device(uow: UnitOfWork, external_id: str, at: datetime) -> str | None:
    """The monitored person wearing the device at ``at`` (as the engine's string id), if any.

    A protected person's phone or watch answers None: its fixes are the moving centre of a
    proximity zone (the monitoring plan names it on that condition), not a wearer's position.
    """
    holder = holder_for_device(uow, external_id, at)
    if holder is None or holder[0] is not HolderKind.PERSON:
        return None
    return str(holder[1])


def devices_at(uow: UnitOfWork, at: datetime) -> dict[tuple[HolderKind, int], list[str]]:
    """External ids of the devices each holder had at ``at``."""
    rows = uow.connection.execute(
        select(
            devices.c.external_id, device_allocations.c.holder_kind, device_allocations.c.holder_id
        )
        .join(devices, devices.c.id == device_allocations.c.device_id)
        .where(
            and_(
                device_allocations.c.fitted_at <= at,
                or_(
                    device_allocations.c.removed_at.is_(None),
                    device_allocations.c.removed_at > at,
                ),
            )
        )
        .order_by(devices.c.external_id)
    )
    out: dict[tuple[HolderKind, int], list[str]] = defaultdict(list)
    for row in rows:
        out[(HolderKind(row.holder_kind), int(row.holder_id))].append(row.external_id)
    return dict(out)


def allocation_spans(
    uow: UnitOfWork,
) -> dict[str, list[tuple[datetime, datetime | None, int | None]]]:
    """Every registered device's external id with the periods it was fitted (none for a device
    still in stock) and the monitored person each fitting concerns (a protected person's phone
    concerns the person it protects them from): what the device doors check a fix against, and
    how they key it on the bus so all of one person's devices meet in one engine."""
    registered = uow.connection.execute(select(devices.c.external_id)).scalars()
    spans: dict[str, list[tuple[datetime, datetime | None, int | None]]] = {
        ext: [] for ext in registered
    }
    rows = uow.connection.execute(
        select(
            devices.c.external_id,
            device_allocations.c.fitted_at,
            device_allocations.c.removed_at,
            device_allocations.c.holder_kind,
            device_allocations.c.holder_id,
        ).join(devices, devices.c.id == device_allocations.c.device_id)
    )
    owners: dict[tuple[str, int], int | None] = {}
    for external_id, fitted_at, removed_at, kind, holder_id in rows:
        key = (kind, int(holder_id))
        if key not in owners:
            owners[key] = _person_of(uow, HolderKind(kind), int(holder_id))
        spans[external_id].append((fitted_at, removed_at, owners[key]))
    return spans
