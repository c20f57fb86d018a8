"""Protected persons: their details encrypted at rest, shown only to the roles that need them,
every view audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound
from vigil.people.model import (
    ProtectedPersonDraft,
    check_protected_person,
)
from vigil.people.service import get_person
from vigil.people.tables import (
    protected_persons,
)
from vigil.security import audit, permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal

PHONE_INDEX_PURPOSE = "protected_person.phone"


@dataclass(frozen=True)
class ProtectedPersonView:
    id: int
    person_id: int
    relationship: str
    # None when the viewer's role may not see details (``details_withheld`` says so).
    full_name: str | None
    address: str | None
    phone: str | None
    email: str | None
    details_withheld: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person_id": self.person_id,
            "relationship": self.relationship,
            "full_name": self.full_name,
            "address": self.address,
            "phone": self.phone,
            "email": self.email,
            "details_withheld": self.details_withheld,
        }


def _field(name: str) -> str:
    return f"protected_persons.{name}"


def add_protected_person(
    uow: UnitOfWork,
    principal: Principal,
    cipher: FieldCipher,
    person_id: int,
    draft: ProtectedPersonDraft,
) -> int:
    principal.require(permissions.PROTECTED_PERSONS_WRITE)
    get_person(uow, principal, person_id)
    errors = ErrorCollector()
    check_protected_person(draft, errors)
    errors.raise_if_any()
    now = uow.clock.now()
    protected_id = uow.connection.execute(
        insert(protected_persons)
        .values(
            person_id=person_id,
            relationship=str(draft.relationship),
            full_name_enc=cipher.encrypt(draft.full_name, _field("full_name")),
            address_enc=cipher.encrypt_optional(draft.address, _field("address")),
            phone_enc=cipher.encrypt_optional(draft.phone, _field("phone")),
            email_enc=cipher.encrypt_optional(draft.email, _field("email")),
            phone_index=cipher.blind_index(draft.phone, PHONE_INDEX_PURPOSE)
            if draft.phone
            else None,
            created_at=now,
        )
        .returning(protected_persons.c.id)
    ).scalar_one()
    # Name what was recorded, never its value.
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="protected_person.create",
        subject_type="protected_person",
        subject_id=protected_id,
        detail={
            "person_id": person_id,
            "fields": [f for f in ("address", "phone", "email") if getattr(draft, f)],
        },
    )
    return int(protected_id)


def _protected_view(row: Any, cipher: FieldCipher, reveal: bool) -> ProtectedPersonView:
    if not reveal:
        return ProtectedPersonView(
            row.id, row.person_id, row.relationship, None, None, None, None, True
        )
    return ProtectedPersonView(
        id=row.id,
        person_id=row.person_id,
        relationship=row.relationship,
        full_name=cipher.decrypt(row.full_name_enc, _field("full_name")),
        address=cipher.decrypt_optional(row.address_enc, _field("address")),
        phone=cipher.decrypt_optional(row.phone_enc, _field("phone")),
        email=cipher.decrypt_optional(row.email_enc, _field("email")),
        details_withheld=False,
    )


def _audit_view(uow: UnitOfWork, principal: Principal, row: Any, reveal: bool) -> None:
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="protected_person.view" if reveal else "protected_person.view_withheld",
        subject_type="protected_person",
        subject_id=row.id,
        detail={
            "person_id": row.person_id,
            "fields": list(("full_name", "address", "phone", "email")) if reveal else [],
        },
    )


def list_protected_persons(
    uow: UnitOfWork, principal: Principal, cipher: FieldCipher, person_id: int
) -> list[ProtectedPersonView]:
    """Protected persons of one person in scope; every view (revealed or not) is audited."""
    get_person(uow, principal, person_id)
    reveal = principal.may(permissions.PROTECTED_DETAILS)
    rows = uow.connection.execute(
        select(protected_persons)
        .where(protected_persons.c.person_id == person_id)
        .order_by(protected_persons.c.id)
    ).all()
    views = []
    for row in rows:
        _audit_view(uow, principal, row, reveal)
        views.append(_protected_view(row, cipher, reveal))
    return views


def get_protected_person(
    uow: UnitOfWork, principal: Principal, cipher: FieldCipher, protected_id: int
) -> ProtectedPersonView:
    row = uow.connection.execute(
        select(protected_persons).where(protected_persons.c.id == protected_id)
    ).first()
    if row is None:
        raise NotFound(f"protected person {protected_id}")
    get_person(uow, principal, row.person_id)
    reveal = principal.may(permissions.PROTECTED_DETAILS)
    _audit_view(uow, principal, row, reveal)
    return _protected_view(row, cipher, reveal)


def protected_person_refs(uow: UnitOfWork, person_id: int) -> list[tuple[int, str]]:
    """(id, relationship) of a person's protected persons, for other parts; no details."""
    rows = uow.connection.execute(
        select(protected_persons.c.id, protected_persons.c.relationship)
        .where(protected_persons.c.person_id == person_id)
        .order_by(protected_persons.c.id)
    )
    return [(row.id, row.relationship) for row in rows]


@dataclass(frozen=True)
class ProtectedPersonRef:
    """A protected person as a link names them: by name for the roles that may see details,
    otherwise by their relationship alone."""

    id: int
    relationship: str
    full_name: str | None


def named_protected_persons(
    uow: UnitOfWork, principal: Principal, cipher: FieldCipher, person_id: int
) -> list[ProtectedPersonRef]:
    """A person's protected persons for links on staff pages. Each name shown is a read of a
    protected person's details, so it is audited (the caller commits)."""
    reveal = principal.may(permissions.PROTECTED_DETAILS)
    rows = uow.connection.execute(
        select(
            protected_persons.c.id,
            protected_persons.c.relationship,
            protected_persons.c.full_name_enc,
        )
        .where(protected_persons.c.person_id == person_id)
        .order_by(protected_persons.c.id)
    ).all()
    refs = []
    for row in rows:
        name = cipher.decrypt(row.full_name_enc, _field("full_name")) if reveal else None
        if reveal:
            audit.record(
                uow.connection,
                at=uow.clock.now(),
                actor=principal.actor,
                action="protected_person.view",
                subject_type="protected_person",
                subject_id=row.id,
                detail={"person_id": person_id, "fields": ["full_name"]},
            )
        refs.append(ProtectedPersonRef(row.id, row.relationship, name))
    return refs


def protected_person_owner(uow: UnitOfWork, protected_id: int) -> int | None:
    """The person a protected person is protected from (no details are read)."""
    found = uow.connection.execute(
        select(protected_persons.c.person_id).where(protected_persons.c.id == protected_id)
    ).scalar()
    return None if found is None else int(found)
