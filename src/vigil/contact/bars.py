"""Bars on prisoner contact: parsing a bar request, barring contact with protected people,
lifting a bar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from vigil.contact.bar_request import BarRequest
from vigil.contact.casefile import (
    F_BAR_REASON,
    F_DECISION,
    F_ITEM,
    F_LIFT_REASON,
    case_row,
    read_people,
    required_text,
    set_status,
    write_note,
)
from vigil.contact.index import (
    EMAIL_PURPOSE,
    PHONE_PURPOSE,
    EnforcementIndex,
    address_indexes,
)
from vigil.contact.model import (
    MAX_SHORT_TEXT,
    BarScope,
    CaseStatus,
    ItemKind,
    PostalAddress,
    normalise_email,
)
from vigil.contact.notifications import notify_requester
from vigil.contact.tables import (
    contact_bar_changes,
    contact_bar_items,
    contact_bars,
)
from vigil.db.uow import UnitOfWork
from vigil.errors import NotFound, ValidationError
from vigil.security import audit, permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal


def bar(
    uow: UnitOfWork,
    cipher: FieldCipher,
    principal: Principal,
    case_id: int,
    request: BarRequest,
    *,
    index: EnforcementIndex | None = None,
) -> int:
    """Bar numbers, addresses and emails for one prisoner or the whole estate.

    With no items named, everything the case's protected people gave is barred.
    """
    principal.require(permissions.CONTACT_CASES)
    conn = uow.connection
    row = case_row(conn, case_id)
    prison_number = request.prison_number or row.matched_prison_number
    if request.scope is BarScope.PRISONER and not prison_number:
        raise ValidationError(
            "prison_number",
            "A prisoner-only bar needs the prisoner's number: "
            "match the prisoner first or give prison_number",
        )
    barred = _items_to_bar(conn, cipher, case_id, request)
    now = uow.clock.now()
    scoped_number = prison_number if request.scope is BarScope.PRISONER else None
    bar_id = _insert_bar(uow, cipher, principal, case_id, request, scoped_number)
    common = {
        "bar_id": bar_id,
        "case_id": case_id,
        "scope": request.scope.value,
        "prison_number": scoped_number,
        "active": True,
    }
    items = _item_rows(cipher, common, barred)
    _insert_items(conn, now, items)
    _record_decision(uow, cipher, principal, row, request, scoped_number, len(items), now)
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.bar.created",
        subject_type="contact_bar",
        subject_id=bar_id,
        detail={
            "case_id": case_id,
            "scope": request.scope.value,
            "prison_number": scoped_number,
            "items": len(items),
        },
    )
    if index is not None:
        index.mark_stale()
    return int(bar_id)


def _insert_bar(
    uow: UnitOfWork,
    cipher: FieldCipher,
    principal: Principal,
    case_id: int,
    request: BarRequest,
    scoped_number: str | None,
) -> int:
    conn, now = uow.connection, uow.clock.now()
    bar_id = conn.execute(
        insert(contact_bars)
        .values(
            case_id=case_id,
            scope=request.scope.value,
            prison_number=scoped_number,
            reason_enc=cipher.encrypt(request.reason, F_BAR_REASON),
            review_date=request.review_date,
            created_at=now,
            created_by=principal.name,
        )
        .returning(contact_bars.c.id)
    ).scalar_one()
    return int(bar_id)


@dataclass(frozen=True)
class _Barred:
    numbers: tuple[str, ...]
    addresses: tuple[PostalAddress, ...]
    emails: tuple[str, ...]


def _items_to_bar(
    conn: Connection, cipher: FieldCipher, case_id: int, request: BarRequest
) -> _Barred:
    barred = _Barred(request.numbers, request.addresses, request.emails)
    if not barred.numbers and not barred.addresses and not barred.emails:
        people = read_people(conn, cipher, case_id)
        barred = _Barred(
            tuple(dict.fromkeys(n for p in people for n in p.phones)),
            tuple(a for p in people for a in p.addresses),
            tuple(dict.fromkeys(e for p in people for e in p.emails)),
        )
    if not barred.numbers and not barred.addresses and not barred.emails:
        raise ValidationError("numbers", "Name at least one number, address or email to bar")
    return barred


def _item_rows(
    cipher: FieldCipher, common: dict[str, Any], barred: _Barred
) -> list[dict[str, Any]]:
    """One row per barred item: the value encrypted, and the blind indexes checks match on."""
    items: list[dict[str, Any]] = []
    for number in barred.numbers:
        items.append(
            {
                **common,
                "kind": ItemKind.PHONE.value,
                "value_enc": cipher.encrypt(number, F_ITEM),
                "match_index": cipher.blind_index(number, PHONE_PURPOSE),
            }
        )
    for email in barred.emails:
        items.append(
            {
                **common,
                "kind": ItemKind.EMAIL.value,
                "value_enc": cipher.encrypt(email, F_ITEM),
                "match_index": cipher.blind_index(normalise_email(email), EMAIL_PURPOSE),
            }
        )
    for address in barred.addresses:
        items.append({**common, **_address_item(cipher, address)})
    return items


def _address_item(cipher: FieldCipher, address: PostalAddress) -> dict[str, Any]:
    parsed = address.parsed()
    keys = address_indexes(cipher.blind_index, parsed)
    return {
        "kind": ItemKind.ADDRESS.value,
        "value_enc": cipher.encrypt(parsed.display, F_ITEM),
        "match_index": keys.key,
        "postcode_index": keys.postcode,
        "street_index": keys.street,
        "building_index": keys.building,
        "flat_index": keys.flat,
        "town_index": keys.town,
    }


def _insert_items(conn: Connection, now: datetime, items: list[dict[str, Any]]) -> None:
    for item in items:
        item_id = conn.execute(
            insert(contact_bar_items)
            .values({**_item_defaults(), **item})
            .returning(contact_bar_items.c.id)
        ).scalar_one()
        conn.execute(
            insert(contact_bar_changes).values(
                at=now, change="added", item_id=item_id, kind=item["kind"]
            )
        )


def _record_decision(
    uow: UnitOfWork,
    cipher: FieldCipher,
    principal: Principal,
    row: Any,
    request: BarRequest,
    scoped_number: str | None,
    item_count: int,
    now: datetime,
) -> None:
    """The case moves to barred, with a decision note and word to the requester."""
    conn = uow.connection
    values: dict[str, Any] = {
        "decision_reason_enc": cipher.encrypt(request.reason, F_DECISION),
        "review_date": request.review_date,
    }
    if row.barred_at is None:
        values["barred_at"] = now
    set_status(conn, row.id, CaseStatus.BARRED, now, **values)
    scope_text = (
        "across every prison"
        if request.scope is BarScope.ESTATE
        else f"for prisoner {scoped_number}"
    )
    note = f"Barred {item_count} item(s) {scope_text}: {request.reason}"
    write_note(conn, cipher, row.id, now, principal.name, "decision", note)
    notify_requester(
        uow,
        cipher,
        row,
        now,
        "Your request has been accepted. The prisoner can no longer call or write "
        "to the numbers and addresses you gave us.",
    )


def _item_defaults() -> dict[str, Any]:
    return {
        "postcode_index": None,
        "street_index": None,
        "building_index": None,
        "flat_index": None,
        "town_index": None,
    }


def lift_bar(
    uow: UnitOfWork,
    cipher: FieldCipher,
    principal: Principal,
    bar_id: int,
    reason: str | None,
    *,
    index: EnforcementIndex | None = None,
) -> None:
    principal.require(permissions.CONTACT_CASES)
    text = required_text(reason, "reason", MAX_SHORT_TEXT, "Enter the reason for lifting the bar")
    conn = uow.connection
    found = conn.execute(select(contact_bars).where(contact_bars.c.id == bar_id)).first()
    if found is None:
        raise NotFound(f"bar {bar_id}")
    if found.lifted_at is not None:
        raise ValidationError("bar", "This bar has already been lifted")
    now = uow.clock.now()
    conn.execute(
        update(contact_bars)
        .where(contact_bars.c.id == bar_id)
        .values(
            lifted_at=now,
            lifted_by=principal.name,
            lift_reason_enc=cipher.encrypt(text, F_LIFT_REASON),
        )
    )
    items = _deactivate_items(conn, bar_id, now)
    write_note(conn, cipher, found.case_id, now, principal.name, "decision", f"Bar lifted: {text}")
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.bar.lifted",
        subject_type="contact_bar",
        subject_id=bar_id,
        detail={"case_id": found.case_id, "items": items},
    )
    if index is not None:
        index.mark_stale()


def _deactivate_items(conn: Connection, bar_id: int, now: datetime) -> int:
    """Stop enforcing the bar's items; each removal joins the feed phone platforms read."""
    items = conn.execute(
        select(contact_bar_items.c.id, contact_bar_items.c.kind).where(
            contact_bar_items.c.bar_id == bar_id, contact_bar_items.c.active.is_(True)
        )
    ).all()
    conn.execute(
        update(contact_bar_items).where(contact_bar_items.c.bar_id == bar_id).values(active=False)
    )
    for item in items:
        conn.execute(
            insert(contact_bar_changes).values(
                at=now, change="removed", item_id=item.id, kind=item.kind
            )
        )
    return len(items)
