"""UPCS use cases. Each takes a unit of work and commits once; audit entries commit with them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from vigil.contact import addresses, phones
from vigil.contact.index import (
    EMAIL_PURPOSE,
    ITEM_COLUMNS,
    PHONE_PURPOSE,
    AddressIndexes,
    EnforcementIndex,
    Entry,
    address_indexes,
    best_address,
    entry_from_row,
)
from vigil.contact.matching import Candidate, RegisteredPrisoner, rank
from vigil.contact.model import (
    ATTEMPT_THRESHOLD,
    ATTEMPT_WINDOW,
    MAX_SHORT_TEXT,
    MAX_TEXT,
    OPEN_STATUSES,
    PRISON_NUMBER,
    AttemptKind,
    BarScope,
    CaseStatus,
    ContactRequest,
    IntelligenceKind,
    ItemKind,
    PostalAddress,
    ProtectedPerson,
    RequesterType,
    mask_name,
    new_reference,
    normalise_email,
    normalise_prison_number,
    parse_request,
    percentile,
    person_from_json,
    person_to_json,
    request_to_json,
)
from vigil.contact.tables import (
    contact_alerts,
    contact_attempts,
    contact_bar_changes,
    contact_bar_items,
    contact_bars,
    contact_cases,
    contact_drafts,
    contact_intelligence,
    contact_notes,
    contact_notifications,
    contact_prisoners,
    contact_protected_people,
)
from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.security import audit
from vigil.security.crypto import PREFIX, DecryptionError, FieldCipher
from vigil.security.model import Principal, Role
from vigil.text import ascii_digits

PUBLIC_ACTOR = "public"
SECURITY_QUEUE = "prison_security"
DRAFT_LIFETIME = timedelta(hours=2)
CASE_ROLES = (Role.UPCS_CASE_HANDLER,)
ENFORCEMENT_ROLES = (Role.PRISON_SYSTEM,)

_F_REQUEST = "contact_cases.request_enc"
_F_PERSON = "contact_protected_people.details_enc"
_F_NOTE = "contact_notes.text_enc"
_F_DECISION = "contact_cases.decision_reason_enc"
_F_BAR_REASON = "contact_bars.reason_enc"
_F_LIFT_REASON = "contact_bars.lift_reason_enc"
_F_ITEM = "contact_bar_items.value_enc"
_F_RECIPIENT = "contact_notifications.recipient_enc"
_F_BODY = "contact_notifications.body_enc"
_F_INTEL = "contact_intelligence.details_enc"
_F_DRAFT = "contact_drafts.data_enc"


# --- submission -----------------------------------------------------------------------------


def submit_request(
    uow: UnitOfWork, cipher: FieldCipher, request: ContactRequest, *, channel: str
) -> str:
    """Store a request as a new case; returns the reference given to the requester."""
    now = uow.clock.now()
    conn = uow.connection
    reference = new_reference()
    while conn.execute(
        select(contact_cases.c.id).where(contact_cases.c.reference == reference)
    ).first():
        reference = new_reference()
    contact_handle = request.requester.email or request.requester.phone
    case_id = conn.execute(
        insert(contact_cases)
        .values(
            reference=reference,
            status=CaseStatus.NEW.value,
            channel=channel,
            requester_type=request.requester.type.value,
            consent=request.consent.value,
            request_enc=cipher.encrypt(json.dumps(request_to_json(request)), _F_REQUEST),
            requester_index=cipher.blind_index(contact_handle, "contact.requester")
            if contact_handle
            else None,
            prison_number=request.prisoner.prison_number,
            submitted_at=now,
            updated_at=now,
        )
        .returning(contact_cases.c.id)
    ).scalar_one()
    for position, person in enumerate(request.protected_people):
        conn.execute(
            insert(contact_protected_people).values(
                case_id=case_id,
                position=position,
                details_enc=cipher.encrypt(json.dumps(person_to_json(person)), _F_PERSON),
            )
        )
    audit.record(
        conn,
        at=now,
        actor=PUBLIC_ACTOR,
        action="contact.request.submitted",
        subject_type="contact_case",
        subject_id=case_id,
        detail={"channel": channel, "people": len(request.protected_people)},
    )
    uow.commit()
    return reference


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_draft(uow: UnitOfWork, cipher: FieldCipher, token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    row = uow.connection.execute(
        select(contact_drafts.c.data_enc, contact_drafts.c.expires_at).where(
            contact_drafts.c.token_hash == _token_hash(token)
        )
    ).first()
    if row is None or row.expires_at < uow.clock.now():
        return {}
    found: dict[str, Any] = json.loads(cipher.decrypt(row.data_enc, _F_DRAFT))
    return found


def save_draft(uow: UnitOfWork, cipher: FieldCipher, token: str, data: dict[str, Any]) -> None:
    now = uow.clock.now()
    conn = uow.connection
    conn.execute(delete(contact_drafts).where(contact_drafts.c.expires_at < now))
    conn.execute(delete(contact_drafts).where(contact_drafts.c.token_hash == _token_hash(token)))
    conn.execute(
        insert(contact_drafts).values(
            token_hash=_token_hash(token),
            data_enc=cipher.encrypt(json.dumps(data), _F_DRAFT),
            expires_at=now + DRAFT_LIFETIME,
        )
    )
    uow.commit()


def discard_draft(uow: UnitOfWork, token: str) -> None:
    uow.connection.execute(
        delete(contact_drafts).where(contact_drafts.c.token_hash == _token_hash(token))
    )
    uow.commit()


# --- reading cases --------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseSummary:
    id: int
    reference: str
    status: CaseStatus
    requester_type: RequesterType
    masked_people: tuple[str, ...]
    prison_number: str | None
    assigned_to: str | None
    submitted_at: datetime
    barred_at: datetime | None
    sla_hours: float
    open_alerts: int


@dataclass(frozen=True)
class BarView:
    id: int
    scope: BarScope
    prison_number: str | None
    reason: str
    review_date: date | None
    created_at: datetime
    created_by: str
    lifted_at: datetime | None
    lift_reason: str | None
    items: tuple[tuple[ItemKind, str], ...]


@dataclass(frozen=True)
class CaseDetail:
    summary: CaseSummary
    request: dict[str, Any]
    people: tuple[ProtectedPerson, ...]
    matched_prisoner_id: int | None
    matched_prison_number: str | None
    decision_reason: str | None
    notes: tuple[tuple[datetime, str, str, str], ...]
    bars: tuple[BarView, ...]
    attempts: tuple[tuple[datetime, str, str], ...]
    alerts: tuple[dict[str, Any], ...]
    intelligence: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def _people(conn: Connection, cipher: FieldCipher, case_id: int) -> list[ProtectedPerson]:
    rows = conn.execute(
        select(contact_protected_people.c.details_enc)
        .where(contact_protected_people.c.case_id == case_id)
        .order_by(contact_protected_people.c.position)
    )
    return [person_from_json(json.loads(cipher.decrypt(r.details_enc, _F_PERSON))) for r in rows]


def _summary(conn: Connection, cipher: FieldCipher, row: Any, now: datetime) -> CaseSummary:
    people = _people(conn, cipher, row.id)
    alerts = conn.execute(
        select(func.count())
        .select_from(contact_alerts)
        .where(contact_alerts.c.case_id == row.id, contact_alerts.c.acknowledged_at.is_(None))
    ).scalar_one()
    end = row.barred_at or now
    return CaseSummary(
        id=row.id,
        reference=row.reference,
        status=CaseStatus(row.status),
        requester_type=RequesterType(row.requester_type),
        masked_people=tuple(mask_name(p.name) for p in people),
        prison_number=row.matched_prison_number or row.prison_number,
        assigned_to=row.assigned_to,
        submitted_at=row.submitted_at,
        barred_at=row.barred_at,
        sla_hours=round((end - row.submitted_at).total_seconds() / 3600, 1),
        open_alerts=int(alerts),
    )


def list_cases(
    uow: UnitOfWork,
    cipher: FieldCipher,
    principal: Principal,
    *,
    status: CaseStatus | None = None,
    limit: int = 200,
) -> list[CaseSummary]:
    """The queue: protected people masked to initials, oldest first."""
    principal.require_role(*CASE_ROLES)
    query = select(contact_cases).order_by(contact_cases.c.submitted_at).limit(limit)
    if status is not None:
        query = query.where(contact_cases.c.status == status.value)
    conn = uow.connection
    now = uow.clock.now()
    return [_summary(conn, cipher, row, now) for row in conn.execute(query)]


def find_case(uow: UnitOfWork, principal: Principal, reference: str) -> int:
    principal.require_role(*CASE_ROLES)
    found = uow.connection.execute(
        select(contact_cases.c.id).where(contact_cases.c.reference == reference.strip().upper())
    ).scalar()
    if found is None:
        raise NotFound(reference)
    return int(found)


def _case_row(conn: Connection, case_id: int) -> Any:
    row = conn.execute(select(contact_cases).where(contact_cases.c.id == case_id)).first()
    if row is None:
        raise NotFound(f"case {case_id}")
    return row


def get_case(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_id: int
) -> CaseDetail:
    """The full case with protected people's details; the view is audited."""
    principal.require_role(*CASE_ROLES)
    conn = uow.connection
    now = uow.clock.now()
    row = _case_row(conn, case_id)
    request = json.loads(cipher.decrypt(row.request_enc, _F_REQUEST))
    notes = tuple(
        (n.at, n.actor, n.kind, cipher.decrypt(n.text_enc, _F_NOTE))
        for n in conn.execute(
            select(contact_notes)
            .where(contact_notes.c.case_id == case_id)
            .order_by(contact_notes.c.at, contact_notes.c.id)
        )
    )
    bars = tuple(
        _bar_view(conn, cipher, b)
        for b in conn.execute(
            select(contact_bars)
            .where(contact_bars.c.case_id == case_id)
            .order_by(contact_bars.c.id)
        )
    )
    attempts = tuple(
        (a.at, a.kind, a.prison_number)
        for a in conn.execute(
            select(contact_attempts)
            .where(contact_attempts.c.case_id == case_id)
            .order_by(contact_attempts.c.at.desc())
            .limit(100)
        )
    )
    alerts = tuple(
        {
            "id": a.id,
            "raised_at": a.raised_at,
            "message": a.message,
            "acknowledged_at": a.acknowledged_at,
        }
        for a in conn.execute(
            select(contact_alerts)
            .where(contact_alerts.c.case_id == case_id)
            .order_by(contact_alerts.c.raised_at.desc())
        )
    )
    intelligence = tuple(
        {
            "id": i.id,
            "received_at": i.received_at,
            "kind": i.kind,
            "prison_number": i.prison_number,
            "details": cipher.decrypt(i.details_enc, _F_INTEL),
        }
        for i in conn.execute(
            select(contact_intelligence).where(contact_intelligence.c.case_id == case_id)
        )
    )
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.case.viewed",
        subject_type="contact_case",
        subject_id=case_id,
        detail={"fields": ["protected_people", "requester", "prisoner"]},
    )
    uow.commit()
    return CaseDetail(
        summary=_summary(conn, cipher, row, now),
        request=request,
        people=tuple(_people(conn, cipher, case_id)),
        matched_prisoner_id=row.matched_prisoner_id,
        matched_prison_number=row.matched_prison_number,
        decision_reason=cipher.decrypt_optional(row.decision_reason_enc, _F_DECISION),
        notes=notes,
        bars=bars,
        attempts=attempts,
        alerts=alerts,
        intelligence=intelligence,
    )


def _bar_view(conn: Connection, cipher: FieldCipher, bar: Any) -> BarView:
    items = tuple(
        (ItemKind(i.kind), cipher.decrypt(i.value_enc, _F_ITEM))
        for i in conn.execute(
            select(contact_bar_items.c.kind, contact_bar_items.c.value_enc)
            .where(contact_bar_items.c.bar_id == bar.id)
            .order_by(contact_bar_items.c.id)
        )
    )
    return BarView(
        id=bar.id,
        scope=BarScope(bar.scope),
        prison_number=bar.prison_number,
        reason=cipher.decrypt(bar.reason_enc, _F_BAR_REASON),
        review_date=bar.review_date,
        created_at=bar.created_at,
        created_by=bar.created_by,
        lifted_at=bar.lifted_at,
        lift_reason=cipher.decrypt_optional(bar.lift_reason_enc, _F_LIFT_REASON),
        items=items,
    )


# --- case handling --------------------------------------------------------------------------


def _note(
    conn: Connection,
    cipher: FieldCipher,
    case_id: int,
    at: datetime,
    actor: str,
    kind: str,
    text: str,
) -> None:
    conn.execute(
        insert(contact_notes).values(
            case_id=case_id, at=at, actor=actor, kind=kind, text_enc=cipher.encrypt(text, _F_NOTE)
        )
    )


def _set_status(
    conn: Connection, case_id: int, status: CaseStatus, now: datetime, **values: Any
) -> None:
    conn.execute(
        update(contact_cases)
        .where(contact_cases.c.id == case_id)
        .values(status=status.value, updated_at=now, **values)
    )


def _required_text(value: str | None, name: str, limit: int, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(name, message)
    if len(text) > limit:
        raise ValidationError(name, f"must be {limit} characters or fewer")
    return text


def assign(uow: UnitOfWork, principal: Principal, case_id: int, assignee: str | None) -> None:
    principal.require_role(*CASE_ROLES)
    conn = uow.connection
    _case_row(conn, case_id)
    who = (assignee or principal.name).strip()[:200]
    conn.execute(update(contact_cases).where(contact_cases.c.id == case_id).values(assigned_to=who))
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=principal.actor,
        action="contact.case.assigned",
        subject_type="contact_case",
        subject_id=case_id,
        detail={"assignee": who},
    )
    uow.commit()


def add_note(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_id: int, text: str | None
) -> None:
    principal.require_role(*CASE_ROLES)
    body = _required_text(text, "note", MAX_TEXT, "Enter a note")
    conn = uow.connection
    _case_row(conn, case_id)
    now = uow.clock.now()
    _note(conn, cipher, case_id, now, principal.name, "note", body)
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.case.note_added",
        subject_type="contact_case",
        subject_id=case_id,
    )
    uow.commit()


def _register(conn: Connection) -> Iterable[RegisteredPrisoner]:
    for row in conn.execute(select(contact_prisoners)).yield_per(5000):
        yield _prisoner(row)


def _prisoner(row: Any) -> RegisteredPrisoner:
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
    principal.require_role(*CASE_ROLES)
    conn = uow.connection
    row = _case_row(conn, case_id)
    prisoner = json.loads(cipher.decrypt(row.request_enc, _F_REQUEST))["prisoner"]
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
    principal.require_role(*CASE_ROLES)
    conn = uow.connection
    row = _case_row(conn, case_id)
    found = conn.execute(
        select(contact_prisoners).where(contact_prisoners.c.id == prisoner_id)
    ).first()
    if found is None:
        raise ValidationError("prisoner_id", "is not in the prisoner register")
    now = uow.clock.now()
    status = CaseStatus(row.status)
    new_status = CaseStatus.MATCHING if status in OPEN_STATUSES else status
    _set_status(
        conn,
        case_id,
        new_status,
        now,
        matched_prisoner_id=found.id,
        matched_prison_number=found.prison_number,
    )
    _note(
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
    uow.commit()


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
    from vigil.contact.model import parse_address, parse_email, parse_phone

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
    principal.require_role(*CASE_ROLES)
    conn = uow.connection
    row = _case_row(conn, case_id)
    prison_number = request.prison_number or row.matched_prison_number
    if request.scope is BarScope.PRISONER and not prison_number:
        raise ValidationError(
            "prison_number",
            "A prisoner-only bar needs the prisoner's number: "
            "match the prisoner first or give prison_number",
        )
    numbers, postal, emails = request.numbers, request.addresses, request.emails
    if not numbers and not postal and not emails:
        people = _people(conn, cipher, case_id)
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
            reason_enc=cipher.encrypt(request.reason, _F_BAR_REASON),
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
                "value_enc": cipher.encrypt(number, _F_ITEM),
                "match_index": cipher.blind_index(number, PHONE_PURPOSE),
            }
        )
    for email in emails:
        items.append(
            {
                **common,
                "kind": ItemKind.EMAIL.value,
                "value_enc": cipher.encrypt(email, _F_ITEM),
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
                "value_enc": cipher.encrypt(parsed.display, _F_ITEM),
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
        "decision_reason_enc": cipher.encrypt(request.reason, _F_DECISION),
        "review_date": request.review_date,
    }
    if row.barred_at is None:
        values["barred_at"] = now
    _set_status(conn, case_id, CaseStatus.BARRED, now, **values)
    scope_text = (
        "across every prison"
        if request.scope is BarScope.ESTATE
        else f"for prisoner {scoped_number}"
    )
    _note(
        conn,
        cipher,
        case_id,
        now,
        principal.name,
        "decision",
        f"Barred {len(items)} item(s) {scope_text}: {request.reason}",
    )
    _notify_requester(
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
    uow.commit()
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
    principal.require_role(*CASE_ROLES)
    text = _required_text(reason, "reason", MAX_SHORT_TEXT, "Enter the reason for lifting the bar")
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
            lift_reason_enc=cipher.encrypt(text, _F_LIFT_REASON),
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
    _note(conn, cipher, found.case_id, now, principal.name, "decision", f"Bar lifted: {text}")
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.bar.lifted",
        subject_type="contact_bar",
        subject_id=bar_id,
        detail={"case_id": found.case_id, "items": len(items)},
    )
    uow.commit()
    if index is not None:
        index.mark_stale()


def decline(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_id: int, reason: str | None
) -> None:
    principal.require_role(*CASE_ROLES)
    text = _required_text(reason, "reason", MAX_SHORT_TEXT, "Enter the reason for declining")
    conn = uow.connection
    row = _case_row(conn, case_id)
    now = uow.clock.now()
    _set_status(
        conn,
        case_id,
        CaseStatus.DECLINED,
        now,
        decision_reason_enc=cipher.encrypt(text, _F_DECISION),
    )
    _note(conn, cipher, case_id, now, principal.name, "decision", f"Declined: {text}")
    _notify_requester(
        uow,
        cipher,
        row,
        now,
        f"We have looked at your request and cannot put a bar in place: {text}",
    )
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.case.declined",
        subject_type="contact_case",
        subject_id=case_id,
    )
    uow.commit()


def ask_for_information(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_id: int, question: str | None
) -> None:
    principal.require_role(*CASE_ROLES)
    text = _required_text(question, "question", MAX_SHORT_TEXT, "Enter what you need to know")
    conn = uow.connection
    row = _case_row(conn, case_id)
    now = uow.clock.now()
    _set_status(conn, case_id, CaseStatus.AWAITING_INFORMATION, now)
    _note(conn, cipher, case_id, now, principal.name, "decision", f"Asked for information: {text}")
    _notify_requester(uow, cipher, row, now, f"We need more information about your request: {text}")
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.case.information_requested",
        subject_type="contact_case",
        subject_id=case_id,
    )
    uow.commit()


def close_case(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_id: int, reason: str | None
) -> None:
    principal.require_role(*CASE_ROLES)
    text = _required_text(reason, "reason", MAX_SHORT_TEXT, "Enter the reason for closing")
    conn = uow.connection
    _case_row(conn, case_id)
    now = uow.clock.now()
    _set_status(conn, case_id, CaseStatus.CLOSED, now)
    _note(conn, cipher, case_id, now, principal.name, "status", f"Closed: {text}")
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.case.closed",
        subject_type="contact_case",
        subject_id=case_id,
    )
    uow.commit()


def _notify_requester(
    uow: UnitOfWork, cipher: FieldCipher, case: Any, now: datetime, body: str
) -> None:
    """Tell the requester the outcome through the alert channels' outbox, in this transaction.

    Messages name only the reference and the decision, never where the prisoner is held. A copy
    is kept on the case (encrypted) so the handler sees what was sent.
    """
    from vigil.alerts import outbox

    conn = uow.connection
    request = json.loads(cipher.decrypt(case.request_enc, _F_REQUEST))["requester"]
    message = f"Unwanted prisoner contact request {case.reference}: {body}"
    for channel, recipient in (("email", request.get("email")), ("sms", request.get("phone"))):
        if recipient:
            notification_id = conn.execute(
                insert(contact_notifications)
                .values(
                    created_at=now,
                    case_id=case.id,
                    audience="requester",
                    channel=channel,
                    recipient_enc=cipher.encrypt(recipient, _F_RECIPIENT),
                    body_enc=cipher.encrypt(message, _F_BODY),
                )
                .returning(contact_notifications.c.id)
            ).scalar_one()
            outbox.enqueue(
                uow,
                channel=channel,
                recipient=recipient,
                subject=f"Your request {case.reference}",
                body={"text": message},
                idempotency_key=f"contact:{case.reference}:{notification_id}",
            )
            break


def pending_notifications(
    uow: UnitOfWork, cipher: FieldCipher, case_id: int
) -> list[dict[str, Any]]:
    rows = uow.connection.execute(
        select(contact_notifications)
        .where(contact_notifications.c.case_id == case_id)
        .order_by(contact_notifications.c.id)
    )
    return [
        {
            "audience": r.audience,
            "channel": r.channel,
            "recipient": cipher.decrypt_optional(r.recipient_enc, _F_RECIPIENT),
            "body": _notice_body(cipher, r.body_enc),
            "sent_at": r.sent_at,
        }
        for r in rows
    ]


def _notice_body(cipher: FieldCipher, stored: str) -> str:
    """A notice's text. One that cannot be decrypted (written in plain text before the
    attempted-contact notices were encrypted, or under a key since retired) is shown as
    unreadable rather than stopping the whole case page."""
    try:
        return cipher.decrypt(stored, _F_BODY)
    except (DecryptionError, ValueError):  # ValueError: a payload that is not base64
        return "(this notice cannot be read)"


def seal_plaintext_notices(uow: UnitOfWork, cipher: FieldCipher, *, actor: str) -> int:
    """Encrypt notice bodies stored in plain text (attempted-contact notices written before
    they were encrypted). Needs the field key, so it is a command (`vigil contact
    seal-notices`), not a schema migration, which runs without keys. Returns how many."""
    conn = uow.connection
    rows = conn.execute(
        select(contact_notifications.c.id, contact_notifications.c.body_enc).where(
            ~contact_notifications.c.body_enc.startswith(f"{PREFIX}:")
        )
    ).all()
    for row in rows:
        conn.execute(
            update(contact_notifications)
            .where(contact_notifications.c.id == row.id)
            .values(body_enc=cipher.encrypt(row.body_enc, _F_BODY))
        )
    if rows:
        audit.record(
            conn,
            at=uow.clock.now(),
            actor=actor,
            action="contact.notices.sealed",
            subject_type="contact_notifications",
            subject_id=None,
            detail={"count": len(rows)},
        )
    uow.commit()
    return len(rows)


def acknowledge_alert(uow: UnitOfWork, principal: Principal, alert_id: int) -> None:
    principal.require_role(*CASE_ROLES)
    conn = uow.connection
    found = conn.execute(select(contact_alerts).where(contact_alerts.c.id == alert_id)).first()
    if found is None:
        raise NotFound(f"alert {alert_id}")
    now = uow.clock.now()
    conn.execute(
        update(contact_alerts)
        .where(contact_alerts.c.id == alert_id)
        .values(acknowledged_at=now, acknowledged_by=principal.name)
    )
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.alert.acknowledged",
        subject_type="contact_alert",
        subject_id=alert_id,
    )
    uow.commit()


def open_alerts(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    principal.require_role(*CASE_ROLES)
    rows = uow.connection.execute(
        select(contact_alerts, contact_cases.c.reference)
        .join(contact_cases, contact_cases.c.id == contact_alerts.c.case_id)
        .where(contact_alerts.c.acknowledged_at.is_(None))
        .order_by(contact_alerts.c.raised_at.desc())
    )
    return [
        {
            "id": r.id,
            "case_id": r.case_id,
            "reference": r.reference,
            "message": r.message,
            "raised_at": r.raised_at,
            "attempts": r.attempts,
        }
        for r in rows
    ]


# --- prisoner register ----------------------------------------------------------------------

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
        number = normalise_prison_number(raw.get("prison_number") or "")
        if not PRISON_NUMBER.match(number):
            errors.add(f"row {line}.prison_number", "must be a prison number like A1234BC")
            continue
        surname = (raw.get("surname") or "").strip()
        if not surname or len(surname) > 200:
            errors.add(f"row {line}.surname", "is required (200 characters or fewer)")
            continue
        parsed: dict[str, date | None] = {}
        for column in ("date_of_birth", "release_date"):
            value = (raw.get(column) or "").strip()
            try:
                parsed[column] = date.fromisoformat(value) if value else None
            except ValueError:
                errors.add(f"row {line}.{column}", "must be a date like 1985-03-27")
        aliases = [a.strip() for a in (raw.get("aliases") or "").split(";") if a.strip()]
        rows[number] = {
            "prison_number": number,
            "forenames": (raw.get("forenames") or "").strip()[:200],
            "surname": surname,
            "aliases": json.dumps(aliases),
            "date_of_birth": parsed.get("date_of_birth"),
            "establishment": (raw.get("establishment") or "").strip()[:200] or None,
            "release_date": parsed.get("release_date"),
        }
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
    uow.commit()
    return len(rows)


def register_size(uow: UnitOfWork) -> int:
    return int(
        uow.connection.execute(select(func.count()).select_from(contact_prisoners)).scalar_one()
    )


# --- enforcement ----------------------------------------------------------------------------


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
    principal.require_role(*ENFORCEMENT_ROLES)
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
        _record_attempt(uow, cipher, principal, AttemptKind.CALL, number, hit)
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
    principal.require_role(*ENFORCEMENT_ROLES)
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
        _record_attempt(uow, cipher, principal, AttemptKind.LETTER, number, hit.entry)
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


def _record_attempt(
    uow: UnitOfWork,
    cipher: FieldCipher,
    principal: Principal,
    kind: AttemptKind,
    prison_number: str,
    entry: Entry,
) -> None:
    conn = uow.connection
    now = uow.clock.now()
    conn.execute(
        insert(contact_attempts).values(
            at=now,
            kind=kind.value,
            prison_number=prison_number,
            case_id=entry.case_id,
            bar_id=entry.bar_id,
            item_id=entry.item_id,
            actor=principal.actor,
        )
    )
    recent = conn.execute(
        select(func.count())
        .select_from(contact_attempts)
        .where(
            contact_attempts.c.prison_number == prison_number,
            contact_attempts.c.kind == kind.value,
            contact_attempts.c.case_id == entry.case_id,
            contact_attempts.c.at > now - ATTEMPT_WINDOW,
        )
    ).scalar_one()
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action=f"contact.{kind.value}.refused",
        subject_type="contact_case",
        subject_id=entry.case_id,
        detail={"prison_number": prison_number, "bar_id": entry.bar_id},
    )
    if recent >= ATTEMPT_THRESHOLD:
        _raise_alert(conn, cipher, entry.case_id, prison_number, kind, int(recent), now)
    uow.commit()


def _raise_alert(
    conn: Connection,
    cipher: FieldCipher,
    case_id: int,
    prison_number: str,
    kind: AttemptKind,
    attempts: int,
    now: datetime,
) -> None:
    verb = "dialled a barred number" if kind is AttemptKind.CALL else "wrote to a barred address"
    message = f"{prison_number} {verb} {attempts} times in 24 hours"
    existing = conn.execute(
        select(contact_alerts.c.id).where(
            contact_alerts.c.case_id == case_id,
            contact_alerts.c.prison_number == prison_number,
            contact_alerts.c.kind == kind.value,
            contact_alerts.c.acknowledged_at.is_(None),
            contact_alerts.c.raised_at > now - ATTEMPT_WINDOW,
        )
    ).scalar()
    if existing is not None:
        conn.execute(
            update(contact_alerts)
            .where(contact_alerts.c.id == existing)
            .values(attempts=attempts, message=message)
        )
        return
    alert_id = conn.execute(
        insert(contact_alerts)
        .values(
            raised_at=now,
            case_id=case_id,
            prison_number=prison_number,
            kind=kind.value,
            attempts=attempts,
            message=message,
        )
        .returning(contact_alerts.c.id)
    ).scalar_one()
    conn.execute(
        insert(contact_notifications).values(
            created_at=now,
            case_id=case_id,
            audience="case_handler",
            channel="queue",
            recipient_enc=None,
            # Encrypted like every notice body: the case page decrypts them all.
            body_enc=cipher.encrypt(f"Alert {alert_id}: {message}", _F_BODY),
        )
    )
    audit.record(
        conn,
        at=now,
        actor="system",
        action="contact.alert.raised",
        subject_type="contact_alert",
        subject_id=alert_id,
        detail={"case_id": case_id, "prison_number": prison_number, "attempts": attempts},
    )


def barred_numbers_since(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, since: str | None, limit: int = 1000
) -> dict[str, Any]:
    """Delta feed for phone platforms: additions and removals after the cursor, in order."""
    principal.require_role(*ENFORCEMENT_ROLES)
    cursor = 0
    if since not in (None, ""):
        assert since is not None
        if not ascii_digits(since) or len(since) > 18:
            raise ValidationError("since", "must be a cursor this feed returned")
        cursor = int(since)
    limit = max(1, min(limit, 10_000))
    conn = uow.connection
    rows = conn.execute(
        select(
            contact_bar_changes.c.seq,
            contact_bar_changes.c.change,
            contact_bar_changes.c.at,
            contact_bar_items.c.id,
            contact_bar_items.c.value_enc,
            contact_bar_items.c.scope,
            contact_bar_items.c.prison_number,
        )
        .join(contact_bar_items, contact_bar_items.c.id == contact_bar_changes.c.item_id)
        .where(
            contact_bar_changes.c.seq > cursor, contact_bar_changes.c.kind == ItemKind.PHONE.value
        )
        .order_by(contact_bar_changes.c.seq)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    additions: list[dict[str, Any]] = []
    removals: list[dict[str, Any]] = []
    for r in rows:
        entry = {
            "id": r.id,
            "number": cipher.decrypt(r.value_enc, _F_ITEM),
            "scope": r.scope,
            "prison_number": r.prison_number,
            "at": r.at.isoformat(),
            "seq": r.seq,
        }
        (additions if r.change == "added" else removals).append(entry)
    if rows:
        next_cursor = rows[-1].seq
    else:
        # Nothing new for phones; skip past changes to other kinds so the client does not re-ask.
        top = conn.execute(select(func.max(contact_bar_changes.c.seq))).scalar()
        next_cursor = max(cursor, int(top or 0)) if not more else cursor
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=principal.actor,
        action="contact.feed.read",
        subject_type="contact_feed",
        detail={"since": cursor, "changes": len(rows)},
    )
    uow.commit()
    return {"additions": additions, "removals": removals, "cursor": str(next_cursor), "more": more}


# --- intelligence ---------------------------------------------------------------------------


def submit_intelligence(
    uow: UnitOfWork, cipher: FieldCipher, data: Any, *, principal: Principal | None
) -> int:
    """A report of illicit phone use or other contact, routed to the prison-security queue and
    linked to a case when the prisoner is one a case names."""
    errors = ErrorCollector()
    if not isinstance(data, dict):
        raise ValidationError("body", "must be an object")
    kind: IntelligenceKind | None = None
    try:
        kind = IntelligenceKind(str(data.get("kind")))
    except ValueError:
        errors.add("kind", "Select what you are reporting")
    prison_number = data.get("prison_number") or None
    if prison_number is not None:
        if not isinstance(prison_number, str):
            errors.add("prison_number", "must be text")
        else:
            prison_number = normalise_prison_number(prison_number)
            if not PRISON_NUMBER.match(prison_number):
                errors.add("prison_number", "Enter a prison number like A1234BC")
    phone_index = None
    raw_phone = data.get("phone")
    if raw_phone:
        try:
            phone_index = cipher.blind_index(phones.to_e164(str(raw_phone)[:40]), PHONE_PURPOSE)
        except phones.NotAPhoneNumber:
            errors.add("phone", "Enter a phone number, like 07700 900 982")
    details = data.get("details")
    if not isinstance(details, str) or not details.strip():
        errors.add("details", "Describe what happened")
    elif len(details) > MAX_TEXT:
        errors.add("details", f"must be {MAX_TEXT} characters or fewer")
    errors.raise_if_any()
    assert kind is not None
    assert isinstance(details, str)
    conn = uow.connection
    now = uow.clock.now()
    case_id = None
    if prison_number:
        case_id = conn.execute(
            select(contact_cases.c.id)
            .where(
                or_(
                    contact_cases.c.matched_prison_number == prison_number,
                    contact_cases.c.prison_number == prison_number,
                )
            )
            .order_by(contact_cases.c.submitted_at.desc())
            .limit(1)
        ).scalar()
    text = details.strip()
    if raw_phone:
        text += f"\nNumber used: {str(raw_phone)[:40]}"
    intel_id = conn.execute(
        insert(contact_intelligence)
        .values(
            received_at=now,
            source="staff" if principal else "public",
            queue=SECURITY_QUEUE,
            kind=kind.value,
            prison_number=prison_number,
            phone_index=phone_index,
            details_enc=cipher.encrypt(text, _F_INTEL),
            case_id=case_id,
            status="new",
            reported_by=principal.name if principal else None,
        )
        .returning(contact_intelligence.c.id)
    ).scalar_one()
    audit.record(
        conn,
        at=now,
        actor=principal.actor if principal else PUBLIC_ACTOR,
        action="contact.intelligence.received",
        subject_type="contact_intelligence",
        subject_id=intel_id,
        detail={"queue": SECURITY_QUEUE, "case_id": case_id},
    )
    uow.commit()
    return int(intel_id)


def security_queue(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal
) -> list[dict[str, Any]]:
    principal.require_role(*CASE_ROLES)
    conn = uow.connection
    rows = conn.execute(
        select(contact_intelligence, contact_cases.c.reference)
        .outerjoin(contact_cases, contact_cases.c.id == contact_intelligence.c.case_id)
        .where(contact_intelligence.c.queue == SECURITY_QUEUE)
        .order_by(contact_intelligence.c.received_at.desc())
        .limit(200)
    ).all()
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=principal.actor,
        action="contact.intelligence.viewed",
        subject_type="contact_intelligence",
        detail={"entries": len(rows)},
    )
    uow.commit()
    return [
        {
            "id": r.id,
            "received_at": r.received_at,
            "source": r.source,
            "kind": r.kind,
            "prison_number": r.prison_number,
            "case_id": r.case_id,
            "reference": r.reference,
            "status": r.status,
            "details": cipher.decrypt(r.details_enc, _F_INTEL),
        }
        for r in rows
    ]


def link_intelligence(
    uow: UnitOfWork, principal: Principal, intelligence_id: int, reference: str
) -> None:
    principal.require_role(*CASE_ROLES)
    conn = uow.connection
    case_id = find_case(uow, principal, reference)
    done = conn.execute(
        update(contact_intelligence)
        .where(contact_intelligence.c.id == intelligence_id)
        .values(case_id=case_id, status="reviewed")
    )
    if done.rowcount == 0:
        raise NotFound(f"intelligence {intelligence_id}")
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=principal.actor,
        action="contact.intelligence.linked",
        subject_type="contact_intelligence",
        subject_id=intelligence_id,
        detail={"case_id": case_id},
    )
    uow.commit()


# --- statistics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Statistics:
    requests_by_type: dict[str, int]
    requests: int
    unique_requesters: int
    median_hours_to_bar: float | None
    p90_hours_to_bar: float | None
    active_bars: int
    active_barred_items: int
    refused_calls: int
    held_letters: int
    by_status: dict[str, int]

    def rows(self) -> list[tuple[str, str]]:
        out = [("requests", str(self.requests)), ("unique requesters", str(self.unique_requesters))]
        out += [(f"requests from {k}", str(v)) for k, v in sorted(self.requests_by_type.items())]
        out += [(f"cases {k}", str(v)) for k, v in sorted(self.by_status.items())]
        out += [
            ("median hours to bar", _fmt(self.median_hours_to_bar)),
            ("90th percentile hours to bar", _fmt(self.p90_hours_to_bar)),
            ("active bars", str(self.active_bars)),
            ("active barred numbers, addresses and emails", str(self.active_barred_items)),
            ("refused calls", str(self.refused_calls)),
            ("held letters", str(self.held_letters)),
        ]
        return out


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def statistics(uow: UnitOfWork, principal: Principal) -> Statistics:
    principal.require_role(*CASE_ROLES)
    conn = uow.connection
    by_type: Counter[str] = Counter(
        dict(
            conn.execute(
                select(contact_cases.c.requester_type, func.count()).group_by(
                    contact_cases.c.requester_type
                )
            ).all()
        )
    )
    by_status: dict[str, int] = dict(
        conn.execute(
            select(contact_cases.c.status, func.count()).group_by(contact_cases.c.status)
        ).all()
    )
    unique = conn.execute(
        select(func.count(func.distinct(contact_cases.c.requester_index)))
    ).scalar_one()
    durations = [
        (r.barred_at - r.submitted_at).total_seconds() / 3600
        for r in conn.execute(
            select(contact_cases.c.submitted_at, contact_cases.c.barred_at).where(
                contact_cases.c.barred_at.is_not(None)
            )
        )
    ]
    active_bars = conn.execute(
        select(func.count()).select_from(contact_bars).where(contact_bars.c.lifted_at.is_(None))
    ).scalar_one()
    active_items = conn.execute(
        select(func.count())
        .select_from(contact_bar_items)
        .where(contact_bar_items.c.active.is_(True))
    ).scalar_one()
    attempts: dict[str, int] = dict(
        conn.execute(
            select(contact_attempts.c.kind, func.count()).group_by(contact_attempts.c.kind)
        ).all()
    )
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=principal.actor,
        action="contact.statistics.read",
        subject_type="contact_statistics",
    )
    uow.commit()
    return Statistics(
        requests_by_type={str(k): int(v) for k, v in by_type.items()},
        requests=sum(by_type.values()),
        unique_requesters=int(unique),
        median_hours_to_bar=percentile(durations, 0.5),
        p90_hours_to_bar=percentile(durations, 0.9),
        active_bars=int(active_bars),
        active_barred_items=int(active_items),
        refused_calls=int(attempts.get(AttemptKind.CALL.value, 0)),
        held_letters=int(attempts.get(AttemptKind.LETTER.value, 0)),
        by_status={str(k): int(v) for k, v in by_status.items()},
    )


def parse_json_request(data: Any, today: date) -> ContactRequest:
    return parse_request(data, today=today)
