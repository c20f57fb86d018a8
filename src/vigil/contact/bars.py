"""Bars on prisoner contact: parsing a bar request, barring contact with protected people,
lifting a bar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

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
    PRISON_NUMBER,
    BarScope,
    CaseStatus,
    ItemKind,
    PostalAddress,
    normalise_email,
    normalise_prison_number,
)
from vigil.contact.notifications import notify_requester
from vigil.contact.tables import (
    contact_bar_changes,
    contact_bar_items,
    contact_bars,
)
from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.security import audit, permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal


@dataclass(frozen=True)
class BarRequest:
    scope: BarScope
    prison_number: str | None
    numbers: tuple[str, ...]  # E.164
    addresses: tuple[PostalAddress, ...]
    emails: tuple[str, ...]
    reason: str
    review_date: date | None


def parse_bar(data: Any, *, today: date) -> BarRequest:
    """The bar body (API and form): numbers as written, addresses as lines + postcode."""
    from vigil.contact.request_parsing import parse_address, parse_email, parse_phone

    errors = ErrorCollector()
    if not isinstance(data, dict):
        raise ValidationError("body", "must be a JSON object")
    scope: BarScope | None = None
    try:
        scope = BarScope(str(data.get("scope")))
    except ValueError:
        errors.add("scope", "must be prisoner or estate")
    prison_number = data.get("prison_number")
    if prison_number is not None and not isinstance(prison_number, str):
        errors.add("prison_number", "must be text")
        prison_number = None
    if prison_number:
        prison_number = normalise_prison_number(prison_number)
        if not PRISON_NUMBER.match(prison_number):
            errors.add("prison_number", "must be a prison number like A1234BC")
    numbers: list[str] = []
    emails: list[str] = []
    postal: list[PostalAddress] = []
    for key, limit in (("numbers", 50), ("addresses", 20), ("emails", 50)):
        value = data.get(key)
        if value is not None and (not isinstance(value, list) or len(value) > limit):
            errors.add(key, f"must be a list of {limit} or fewer")
            data = {**data, key: []}
    for i, raw in enumerate(data.get("numbers") or []):
        if (n := parse_phone(errors, raw, f"numbers.{i}")) and n not in numbers:
            numbers.append(n)
    for i, raw in enumerate(data.get("emails") or []):
        if (e := parse_email(errors, raw, f"emails.{i}")) and e not in emails:
            emails.append(e)
    for i, raw in enumerate(data.get("addresses") or []):
        if isinstance(raw, str):
            raw = {"lines": [line.strip() for line in raw.split(",")], "postcode": None}
        if a := parse_address(errors, raw, f"addresses.{i}"):
            postal.append(a)
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        errors.add("reason", "Enter the reason for the bar")
    elif len(reason) > MAX_SHORT_TEXT:
        errors.add("reason", f"must be {MAX_SHORT_TEXT} characters or fewer")
    review: date | None = None
    raw_review = data.get("review_date")
    if raw_review:
        try:
            review = date.fromisoformat(str(raw_review))
        except ValueError:
            errors.add("review_date", "must be a real date, like 2027-06-01")
        else:
            if review <= today:
                errors.add("review_date", "must be in the future")
    errors.raise_if_any()
    assert scope is not None
    assert isinstance(reason, str)
    return BarRequest(
        scope,
        prison_number or None,
        tuple(numbers),
        tuple(postal),
        tuple(emails),
        reason.strip(),
        review,
    )


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
    numbers, postal, emails = request.numbers, request.addresses, request.emails
    if not numbers and not postal and not emails:
        people = read_people(conn, cipher, case_id)
        numbers = tuple(dict.fromkeys(n for p in people for n in p.phones))
        postal = tuple(a for p in people for a in p.addresses)
        emails = tuple(dict.fromkeys(e for p in people for e in p.emails))
    if not numbers and not postal and not emails:
        raise ValidationError("numbers", "Name at least one number, address or email to bar")
    now = uow.clock.now()
    scoped_number = prison_number if request.scope is BarScope.PRISONER else None
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
    common = {
        "bar_id": bar_id,
        "case_id": case_id,
        "scope": request.scope.value,
        "prison_number": scoped_number,
        "active": True,
    }
    items: list[dict[str, Any]] = []
    for number in numbers:
        items.append(
            {
                **common,
                "kind": ItemKind.PHONE.value,
                "value_enc": cipher.encrypt(number, F_ITEM),
                "match_index": cipher.blind_index(number, PHONE_PURPOSE),
            }
        )
    for email in emails:
        items.append(
            {
                **common,
                "kind": ItemKind.EMAIL.value,
                "value_enc": cipher.encrypt(email, F_ITEM),
                "match_index": cipher.blind_index(normalise_email(email), EMAIL_PURPOSE),
            }
        )
    for address in postal:
        parsed = address.parsed()
        keys = address_indexes(cipher.blind_index, parsed)
        items.append(
            {
                **common,
                "kind": ItemKind.ADDRESS.value,
                "value_enc": cipher.encrypt(parsed.display, F_ITEM),
                "match_index": keys.key,
                "postcode_index": keys.postcode,
                "street_index": keys.street,
                "building_index": keys.building,
                "flat_index": keys.flat,
                "town_index": keys.town,
            }
        )
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
    values: dict[str, Any] = {
        "decision_reason_enc": cipher.encrypt(request.reason, F_DECISION),
        "review_date": request.review_date,
    }
    if row.barred_at is None:
        values["barred_at"] = now
    set_status(conn, case_id, CaseStatus.BARRED, now, **values)
    scope_text = (
        "across every prison"
        if request.scope is BarScope.ESTATE
        else f"for prisoner {scoped_number}"
    )
    write_note(
        conn,
        cipher,
        case_id,
        now,
        principal.name,
        "decision",
        f"Barred {len(items)} item(s) {scope_text}: {request.reason}",
    )
    notify_requester(
        uow,
        cipher,
        row,
        now,
        "Your request has been accepted. The prisoner can no longer call or write "
        "to the numbers and addresses you gave us.",
    )
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
    write_note(conn, cipher, found.case_id, now, principal.name, "decision", f"Bar lifted: {text}")
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.bar.lifted",
        subject_type="contact_bar",
        subject_id=bar_id,
        detail={"case_id": found.case_id, "items": len(items)},
    )
    if index is not None:
        index.mark_stale()
