"""What the contact service knows about one prisoner, for the parts that join it up: his
register entry, the bars that name him, his refused calls and held letters.

Reads only; the caller's use case has checked its own permission and audits the view. Barred
values stay encrypted except the addresses a release plan places zones around (probation sees
protected persons' details; the caller decides whether to decrypt).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Select, and_, exists, select

from vigil.contact.casefile import F_ITEM
from vigil.contact.matching import RegisteredPrisoner
from vigil.contact.model import AttemptKind, BarScope, ItemKind
from vigil.contact.register import prisoner_from_row
from vigil.contact.tables import (
    contact_attempts,
    contact_bar_items,
    contact_bars,
    contact_cases,
    contact_prisoners,
)
from vigil.db.uow import UnitOfWork
from vigil.security.crypto import FieldCipher


@dataclass(frozen=True)
class PrisonerBar:
    """A bar that names the prisoner: since when, until review, and what it covers (counts only)."""

    bar_id: int
    case_reference: str
    created_at: datetime
    review_date: date | None
    lifted_at: datetime | None
    numbers: int
    addresses: int
    emails: int

    @property
    def active(self) -> bool:
        return self.lifted_at is None


@dataclass(frozen=True)
class PrisonerAttempt:
    """A refused call or a held letter."""

    id: int
    at: datetime
    kind: AttemptKind
    prison_number: str
    case_reference: str

    @property
    def outcome(self) -> str:
        return "call refused" if self.kind is AttemptKind.CALL else "letter held"


def register_entry(uow: UnitOfWork, prison_number: str) -> RegisteredPrisoner | None:
    row = uow.connection.execute(
        select(contact_prisoners).where(contact_prisoners.c.prison_number == prison_number)
    ).first()
    return prisoner_from_row(row) if row is not None else None


def register_entries(uow: UnitOfWork) -> list[RegisteredPrisoner]:
    rows = uow.connection.execute(select(contact_prisoners).order_by(contact_prisoners.c.id))
    return [prisoner_from_row(row) for row in rows]


def bars_naming(uow: UnitOfWork, prison_number: str) -> list[PrisonerBar]:
    """Bars for this prisoner (not estate-wide ones, which name no one), newest first."""
    conn = uow.connection
    bars = conn.execute(
        select(contact_bars, contact_cases.c.reference)
        .join(contact_cases, contact_cases.c.id == contact_bars.c.case_id)
        .where(
            contact_bars.c.scope == BarScope.PRISONER.value,
            contact_bars.c.prison_number == prison_number,
        )
        .order_by(contact_bars.c.created_at.desc(), contact_bars.c.id.desc())
    ).all()
    kinds: dict[int, Counter[str]] = {bar.id: Counter() for bar in bars}
    if bars:
        items = conn.execute(
            select(contact_bar_items.c.bar_id, contact_bar_items.c.kind).where(
                contact_bar_items.c.bar_id.in_(list(kinds))
            )
        )
        for item in items:
            kinds[item.bar_id][item.kind] += 1
    return [
        PrisonerBar(
            bar_id=bar.id,
            case_reference=bar.reference,
            created_at=bar.created_at,
            review_date=bar.review_date,
            lifted_at=bar.lifted_at,
            numbers=kinds[bar.id][ItemKind.PHONE.value],
            addresses=kinds[bar.id][ItemKind.ADDRESS.value],
            emails=kinds[bar.id][ItemKind.EMAIL.value],
        )
        for bar in bars
    ]


def attempts_by(uow: UnitOfWork, prison_number: str, limit: int = 50) -> list[PrisonerAttempt]:
    """The prisoner's refused calls and held letters, newest first."""
    rows = uow.connection.execute(
        _attempts_query()
        .where(contact_attempts.c.prison_number == prison_number)
        .order_by(contact_attempts.c.at.desc(), contact_attempts.c.id.desc())
        .limit(limit)
    )
    return [_attempt(row) for row in rows]


def attempts_after(uow: UnitOfWork, after_id: int, limit: int = 500) -> list[PrisonerAttempt]:
    """Attempts recorded after ``after_id``, oldest first (a cursor for other parts to follow)."""
    rows = uow.connection.execute(
        _attempts_query()
        .where(contact_attempts.c.id > after_id)
        .order_by(contact_attempts.c.id)
        .limit(limit)
    )
    return [_attempt(row) for row in rows]


def barred_addresses(uow: UnitOfWork, cipher: FieldCipher, prison_number: str) -> list[str]:
    """The addresses active bars keep this prisoner's letters from, as written."""
    rows = uow.connection.execute(
        select(contact_bar_items.c.value_enc)
        .where(
            contact_bar_items.c.kind == ItemKind.ADDRESS.value,
            contact_bar_items.c.active.is_(True),
            contact_bar_items.c.scope == BarScope.PRISONER.value,
            contact_bar_items.c.prison_number == prison_number,
        )
        .order_by(contact_bar_items.c.id)
    )
    return [cipher.decrypt(row.value_enc, F_ITEM) for row in rows]


def barred_prisoners_released_between(
    uow: UnitOfWork, first: date, last: date
) -> list[RegisteredPrisoner]:
    """Register entries due for release in [first, last] that an active bar names."""
    barred = exists().where(
        and_(
            contact_bars.c.scope == BarScope.PRISONER.value,
            contact_bars.c.prison_number == contact_prisoners.c.prison_number,
            contact_bars.c.lifted_at.is_(None),
        )
    )
    rows = uow.connection.execute(
        select(contact_prisoners)
        .where(
            contact_prisoners.c.release_date >= first,
            contact_prisoners.c.release_date <= last,
            barred,
        )
        .order_by(contact_prisoners.c.release_date, contact_prisoners.c.prison_number)
    )
    return [prisoner_from_row(row) for row in rows]


def _attempts_query() -> Select[Any]:
    return select(
        contact_attempts.c.id,
        contact_attempts.c.at,
        contact_attempts.c.kind,
        contact_attempts.c.prison_number,
        contact_cases.c.reference,
    ).join(contact_cases, contact_cases.c.id == contact_attempts.c.case_id)


def _attempt(row: Row[Any]) -> PrisonerAttempt:
    return PrisonerAttempt(
        id=row.id,
        at=row.at,
        kind=AttemptKind(row.kind),
        prison_number=row.prison_number,
        case_reference=row.reference,
    )
