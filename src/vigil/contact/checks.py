"""Dial-time and mail checks: the prison's systems ask whether a number or an address is barred."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select

from vigil.contact import addresses, phones
from vigil.contact.attempts import record_attempt
from vigil.contact.index import (
    ITEM_COLUMNS,
    AddressIndexes,
    EnforcementIndex,
    Entry,
    address_indexes,
    best_address,
    entry_from_row,
)
from vigil.contact.model import (
    PRISON_NUMBER,
    AttemptKind,
    BarScope,
    ItemKind,
    normalise_prison_number,
)
from vigil.contact.tables import (
    contact_bar_items,
)
from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.security import permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal


@dataclass(frozen=True)
class CallResult:
    allowed: bool
    reason: str | None
    e164: str


@dataclass(frozen=True)
class MailResult:
    allowed: bool
    score: float
    match: dict[str, Any] | None


def _check_prison_number(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("prison_number", "is required")
    number = normalise_prison_number(raw)
    if len(number) > 10 or not PRISON_NUMBER.match(number):
        raise ValidationError("prison_number", "must be a prison number like A1234BC")
    return number


UowFactory = Callable[[], UnitOfWork]


def refresh_index(uows: UowFactory, index: EnforcementIndex) -> None:
    if index.needs_refresh():
        with uows() as uow:
            index.refresh(uow.connection)


def barred_number(conn: Connection, key: str, prison_number: str) -> Entry | None:
    """The plain indexed SQL lookup: the active bar item on this number covering this prisoner.

    Used before the memory index is warm, and to confirm the index's hit before a call is
    refused (the index keeps digests only, and may lag a lift made in another process).
    """
    row = conn.execute(
        select(*ITEM_COLUMNS)
        .where(
            contact_bar_items.c.kind == ItemKind.PHONE.value,
            contact_bar_items.c.match_index == key,
            contact_bar_items.c.active.is_(True),
            or_(
                contact_bar_items.c.scope == BarScope.ESTATE.value,
                contact_bar_items.c.prison_number == prison_number,
            ),
        )
        # Estate-wide first: it is the stronger statement and does not depend on who dials.
        .order_by((contact_bar_items.c.scope != BarScope.ESTATE.value), contact_bar_items.c.id)
        .limit(1)
    ).first()
    return None if row is None else entry_from_row(row)


def barred_address_candidates(conn: Connection, keys: AddressIndexes) -> list[Entry]:
    """The SQL twin of the memory index's address candidates (used before it is warm)."""
    base = select(*ITEM_COLUMNS).where(
        contact_bar_items.c.kind == ItemKind.ADDRESS.value, contact_bar_items.c.active.is_(True)
    )
    rows: list[Any] = []
    if keys.postcode:
        rows = list(conn.execute(base.where(contact_bar_items.c.postcode_index == keys.postcode)))
    if keys.street and not rows:
        building = contact_bar_items.c.building_index
        rows = list(
            conn.execute(
                base.where(
                    contact_bar_items.c.street_index == keys.street,
                    building.is_(None) if keys.building is None else building == keys.building,
                )
            )
        )
    return [entry_from_row(row) for row in rows]


def call_check(
    uows: UowFactory,
    index: EnforcementIndex,
    principal: Principal,
    prison_number: Any,
    dialled: Any,
    cipher: FieldCipher,
) -> CallResult:
    """Dial-time check. Allowed calls touch only memory; a refused one is recorded on the case."""
    # The check port answers with the web app's words for a refused role (its test compares them
    # byte for byte), and the app's route check does not name the permission; so does this, until
    # the port declares its permission the way the app does.
    principal.require(permissions.CONTACT_CHECKS)
    number = _check_prison_number(prison_number)
    if not isinstance(dialled, str):
        raise ValidationError("number", "is required")
    try:
        e164 = phones.to_e164(dialled)
    except phones.NotAPhoneNumber as exc:
        raise ValidationError("number", str(exc)) from exc
    refresh_index(uows, index)
    if index.warm and index.check_number(number, e164) is None:
        return CallResult(True, None, e164)
    # Not warm yet, or a candidate in the index: the database decides, and records a refusal.
    with uows() as uow:
        hit = barred_number(uow.connection, index.phone_key(e164), number)
        if hit is None:
            return CallResult(True, None, e164)
        record_attempt(uow, cipher, principal, AttemptKind.CALL, number, hit)
        # The check opened this unit of work (it is called per dialled number, outside
        # any request's), so it commits the refusal it records.
        uow.commit()
    reason = (
        "number is barred across the prison estate"
        if hit.scope is BarScope.ESTATE
        else "number is barred for this prisoner"
    )
    return CallResult(False, reason, e164)


def mail_check(
    uows: UowFactory,
    index: EnforcementIndex,
    principal: Principal,
    prison_number: Any,
    written: Any,
    cipher: FieldCipher,
) -> MailResult:
    principal.require(permissions.CONTACT_CHECKS)
    number = _check_prison_number(prison_number)
    if not isinstance(written, str) or not written.strip():
        raise ValidationError("address", "is required")
    try:
        envelope = addresses.parse(written)
    except addresses.NotAnAddress as exc:
        raise ValidationError("address", str(exc)) from exc
    refresh_index(uows, index)
    if index.warm:
        hit = index.check_address(number, envelope)
    else:
        keys = address_indexes(index.indexer, envelope)
        with uows() as uow:
            found = barred_address_candidates(uow.connection, keys)
        hit = best_address(number, keys, found)
    if hit is None or hit.score < addresses.HOLD_THRESHOLD:
        score = hit.score if hit else 0.0
        return MailResult(True, score, None)
    with uows() as uow:
        record_attempt(uow, cipher, principal, AttemptKind.LETTER, number, hit.entry)
        # The check opened this unit of work (it is called per dialled number, outside
        # any request's), so it commits the refusal it records.
        uow.commit()
    return MailResult(
        False,
        hit.score,
        {
            "bar_id": hit.entry.bar_id,
            "scope": hit.entry.scope.value,
            "reasons": list(hit.reasons),
            "action": "hold the letter and pass it to the security department",
        },
    )
