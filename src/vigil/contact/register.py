"""The prisoner register: importing it, its size, and matching a case's prisoner against it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from vigil.contact.casefile import F_REQUEST, case_row, set_status, write_note
from vigil.contact.matching import Candidate, RegisteredPrisoner, rank
from vigil.contact.model import OPEN_STATUSES, PRISON_NUMBER, CaseStatus, normalise_prison_number
from vigil.contact.tables import (
    contact_prisoners,
)
from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, ValidationError
from vigil.security import audit, permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal


def _register(conn: Connection) -> Iterable[RegisteredPrisoner]:
    for row in conn.execute(select(contact_prisoners)).yield_per(5000):
        yield prisoner_from_row(row)


def prisoner_from_row(row: Any) -> RegisteredPrisoner:
    return RegisteredPrisoner(
        id=row.id,
        prison_number=row.prison_number,
        forenames=row.forenames,
        surname=row.surname,
        aliases=tuple(json.loads(row.aliases)),
        date_of_birth=row.date_of_birth,
        establishment=row.establishment,
        release_date=row.release_date,
    )


def candidates(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_id: int
) -> list[Candidate]:
    """Ranked register entries for the prisoner the requester described, with reasons."""
    principal.require(permissions.CONTACT_CASES)
    conn = uow.connection
    row = case_row(conn, case_id)
    prisoner = json.loads(cipher.decrypt(row.request_enc, F_REQUEST))["prisoner"]
    dob = prisoner.get("date_of_birth")
    return rank(
        _register(conn),
        name=prisoner.get("name"),
        date_of_birth=date.fromisoformat(dob) if dob else None,
        prison_number=prisoner.get("prison_number"),
    )


def match_prisoner(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_id: int, prisoner_id: int
) -> None:
    principal.require(permissions.CONTACT_CASES)
    conn = uow.connection
    row = case_row(conn, case_id)
    found = conn.execute(
        select(contact_prisoners).where(contact_prisoners.c.id == prisoner_id)
    ).first()
    if found is None:
        raise ValidationError("prisoner_id", "is not in the prisoner register")
    now = uow.clock.now()
    status = CaseStatus(row.status)
    new_status = CaseStatus.MATCHING if status in OPEN_STATUSES else status
    set_status(
        conn,
        case_id,
        new_status,
        now,
        matched_prisoner_id=found.id,
        matched_prison_number=found.prison_number,
    )
    write_note(
        conn,
        cipher,
        case_id,
        now,
        principal.name,
        "status",
        f"Matched to prisoner {found.prison_number}",
    )
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.case.matched",
        subject_type="contact_case",
        subject_id=case_id,
        detail={"prison_number": found.prison_number},
    )


REGISTER_COLUMNS = (
    "prison_number",
    "forenames",
    "surname",
    "aliases",
    "date_of_birth",
    "establishment",
    "release_date",
)


def import_prisoners(uow: UnitOfWork, text: str, *, actor: str) -> int:
    """Load the register from CSV; any bad row stops the whole import, naming row and column."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("prison_number", "surname") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError("header", "is missing the column(s) " + ", ".join(missing))
    errors = ErrorCollector()
    rows: dict[str, dict[str, Any]] = {}
    for line, raw in enumerate(reader, start=2):
        if (values := _prisoner_row(errors, line, raw)) is not None:
            rows[values["prison_number"]] = values
    errors.raise_if_any()
    conn = uow.connection
    now = uow.clock.now()
    existing = dict(
        conn.execute(select(contact_prisoners.c.prison_number, contact_prisoners.c.id)).all()
    )
    for number, values in rows.items():
        if number in existing:
            conn.execute(
                update(contact_prisoners)
                .where(contact_prisoners.c.id == existing[number])
                .values(**values, imported_at=now)
            )
        else:
            conn.execute(insert(contact_prisoners).values(**values, imported_at=now))
    audit.record(
        conn,
        at=now,
        actor=actor,
        action="contact.register.imported",
        subject_type="contact_register",
        detail={"rows": len(rows)},
    )
    return len(rows)


def _prisoner_row(errors: ErrorCollector, line: int, raw: dict[str, str]) -> dict[str, Any] | None:
    """One register row's columns, or None (with its error) when it names no prisoner."""
    number = normalise_prison_number(raw.get("prison_number") or "")
    if not PRISON_NUMBER.match(number):
        errors.add(f"row {line}.prison_number", "must be a prison number like A1234BC")
        return None
    surname = (raw.get("surname") or "").strip()
    if not surname or len(surname) > 200:
        errors.add(f"row {line}.surname", "is required (200 characters or fewer)")
        return None
    parsed: dict[str, date | None] = {}
    for column in ("date_of_birth", "release_date"):
        value = (raw.get(column) or "").strip()
        try:
            parsed[column] = date.fromisoformat(value) if value else None
        except ValueError:
            errors.add(f"row {line}.{column}", "must be a date like 1985-03-27")
    aliases = [a.strip() for a in (raw.get("aliases") or "").split(";") if a.strip()]
    return {
        "prison_number": number,
        "forenames": (raw.get("forenames") or "").strip()[:200],
        "surname": surname,
        "aliases": json.dumps(aliases),
        "date_of_birth": parsed.get("date_of_birth"),
        "establishment": (raw.get("establishment") or "").strip()[:200] or None,
        "release_date": parsed.get("release_date"),
    }


def register_size(uow: UnitOfWork) -> int:
    return int(
        uow.connection.execute(select(func.count()).select_from(contact_prisoners)).scalar_one()
    )
