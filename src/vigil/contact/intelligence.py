"""Intelligence about contact attempts, and the prison security queue it feeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import Connection, insert, or_, select

from vigil.contact import phones
from vigil.contact.casefile import F_INTEL, PUBLIC_ACTOR, SECURITY_QUEUE
from vigil.contact.index import (
    PHONE_PURPOSE,
)
from vigil.contact.model import MAX_TEXT, IntelligenceKind
from vigil.contact.request_parsing import parse_prison_number
from vigil.contact.tables import (
    contact_cases,
    contact_intelligence,
)
from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, ValidationError
from vigil.security import audit, permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal


@dataclass(frozen=True)
class _Report:
    kind: IntelligenceKind
    prison_number: str | None
    phone_index: str | None
    text: str  # the details, with the number used when one was given


def submit_intelligence(
    uow: UnitOfWork, cipher: FieldCipher, data: Any, *, principal: Principal | None
) -> int:
    """A report of illicit phone use or other contact, routed to the prison-security queue and
    linked to a case when the prisoner is one a case names."""
    report = _read_report(cipher, data)
    conn = uow.connection
    now = uow.clock.now()
    case_id = _case_naming(conn, report.prison_number) if report.prison_number else None
    intel_id = conn.execute(
        insert(contact_intelligence)
        .values(
            received_at=now,
            source="staff" if principal else "public",
            queue=SECURITY_QUEUE,
            kind=report.kind.value,
            prison_number=report.prison_number,
            phone_index=report.phone_index,
            details_enc=cipher.encrypt(report.text, F_INTEL),
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
    return int(intel_id)


def _read_report(cipher: FieldCipher, data: Any) -> _Report:
    if not isinstance(data, dict):
        raise ValidationError("body", "must be an object")
    errors = ErrorCollector()
    kind: IntelligenceKind | None = None
    try:
        kind = IntelligenceKind(str(data.get("kind")))
    except ValueError:
        errors.add("kind", "Select what you are reporting")
    prison_number = parse_prison_number(
        errors,
        data.get("prison_number") or None,
        "prison_number",
        "Enter a prison number like A1234BC",
    )
    raw_phone = data.get("phone")
    phone_index = _phone_index(errors, cipher, raw_phone) if raw_phone else None
    details = data.get("details")
    if not isinstance(details, str) or not details.strip():
        errors.add("details", "Describe what happened")
    elif len(details) > MAX_TEXT:
        errors.add("details", f"must be {MAX_TEXT} characters or fewer")
    errors.raise_if_any()
    assert kind is not None
    assert isinstance(details, str)
    text = details.strip()
    if raw_phone:
        text += f"\nNumber used: {str(raw_phone)[:40]}"
    return _Report(kind, prison_number, phone_index, text)


def _phone_index(errors: ErrorCollector, cipher: FieldCipher, raw: object) -> str | None:
    # Only the number's blind index is kept beside the report, so the queue can be matched against
    # barred numbers without storing the number in the clear.
    try:
        return cipher.blind_index(phones.to_e164(str(raw)[:40]), PHONE_PURPOSE)
    except phones.NotAPhoneNumber:
        errors.add("phone", "Enter a phone number, like 07700 900 982")
        return None


def _case_naming(conn: Connection, prison_number: str) -> int | None:
    """The latest case that names the prisoner, matched or as the requester wrote it."""
    found = conn.execute(
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
    return None if found is None else int(found)


class SecurityEntry(TypedDict):
    """Intelligence waiting for prison security, its details decrypted."""

    id: int
    received_at: datetime
    source: str
    kind: str
    prison_number: str | None
    case_id: int | None
    reference: str | None
    status: str
    details: str


def security_queue(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal
) -> list[SecurityEntry]:
    principal.require(permissions.CONTACT_CASES)
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
            "details": cipher.decrypt(r.details_enc, F_INTEL),
        }
        for r in rows
    ]
