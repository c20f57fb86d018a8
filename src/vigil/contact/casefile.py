"""What every UPCS case use case shares: the encrypted fields' names, reading a case and its
protected people, writing notes and status changes, and checking required free text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from vigil.contact.model import CaseStatus, ProtectedPerson
from vigil.contact.request_parsing import person_from_json
from vigil.contact.tables import (
    contact_cases,
    contact_notes,
    contact_protected_people,
)
from vigil.errors import NotFound, ValidationError
from vigil.security.crypto import FieldCipher

PUBLIC_ACTOR = "public"
SECURITY_QUEUE = "prison_security"

# The encryption context of each encrypted column.
F_REQUEST = "contact_cases.request_enc"
F_PERSON = "contact_protected_people.details_enc"
F_NOTE = "contact_notes.text_enc"
F_DECISION = "contact_cases.decision_reason_enc"
F_BAR_REASON = "contact_bars.reason_enc"
F_LIFT_REASON = "contact_bars.lift_reason_enc"
F_ITEM = "contact_bar_items.value_enc"
F_RECIPIENT = "contact_notifications.recipient_enc"
F_BODY = "contact_notifications.body_enc"
F_INTEL = "contact_intelligence.details_enc"
F_DRAFT = "contact_drafts.data_enc"


def read_people(conn: Connection, cipher: FieldCipher, case_id: int) -> list[ProtectedPerson]:
    rows = conn.execute(
        select(contact_protected_people.c.details_enc)
        .where(contact_protected_people.c.case_id == case_id)
        .order_by(contact_protected_people.c.position)
    )
    return [person_from_json(json.loads(cipher.decrypt(r.details_enc, F_PERSON))) for r in rows]


@dataclass(frozen=True)
class StoredCase:
    """A case as stored: the encrypted fields still encrypted (``F_REQUEST``, ``F_DECISION``)."""

    id: int
    reference: str
    status: str
    channel: str
    requester_type: str
    consent: str
    request_enc: str
    requester_index: str | None
    prison_number: str | None
    matched_prisoner_id: int | None
    matched_prison_number: str | None
    assigned_to: str | None
    decision_reason_enc: str | None
    review_date: date | None
    submitted_at: datetime
    updated_at: datetime
    barred_at: datetime | None


def case_row(conn: Connection, case_id: int) -> StoredCase:
    row = conn.execute(select(contact_cases).where(contact_cases.c.id == case_id)).first()
    if row is None:
        raise NotFound(f"case {case_id}")
    return StoredCase(**row._mapping)


def write_note(
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
            case_id=case_id, at=at, actor=actor, kind=kind, text_enc=cipher.encrypt(text, F_NOTE)
        )
    )


def set_status(
    conn: Connection, case_id: int, status: CaseStatus, now: datetime, **values: Any
) -> None:
    conn.execute(
        update(contact_cases)
        .where(contact_cases.c.id == case_id)
        .values(status=status.value, updated_at=now, **values)
    )


def required_text(value: str | None, name: str, limit: int, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(name, message)
    if len(text) > limit:
        raise ValidationError(name, f"must be {limit} characters or fewer")
    return text
