"""The public form's submissions: a request becomes a case, and a half-filled form is kept
as an encrypted draft."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from vigil.contact.casefile import F_DRAFT, F_PERSON, F_REQUEST, PUBLIC_ACTOR
from vigil.contact.model import CaseStatus, ContactRequest, new_reference
from vigil.contact.request_parsing import person_to_json, request_to_json
from vigil.contact.tables import (
    contact_cases,
    contact_drafts,
    contact_protected_people,
)
from vigil.db.uow import UnitOfWork
from vigil.security import audit
from vigil.security.crypto import FieldCipher

DRAFT_LIFETIME = timedelta(hours=2)


def submit_request(
    uow: UnitOfWork, cipher: FieldCipher, request: ContactRequest, *, channel: str
) -> str:
    """Store a request as a new case; returns the reference given to the requester."""
    now = uow.clock.now()
    conn = uow.connection
    reference = _unused_reference(conn)
    contact_handle = request.requester.email or request.requester.phone
    case_id = conn.execute(
        insert(contact_cases)
        .values(
            reference=reference,
            status=CaseStatus.NEW.value,
            channel=channel,
            requester_type=request.requester.type.value,
            consent=request.consent.value,
            request_enc=cipher.encrypt(json.dumps(request_to_json(request)), F_REQUEST),
            requester_index=cipher.blind_index(contact_handle, "contact.requester")
            if contact_handle
            else None,
            prison_number=request.prisoner.prison_number,
            submitted_at=now,
            updated_at=now,
        )
        .returning(contact_cases.c.id)
    ).scalar_one()
    _store_people(conn, cipher, case_id, request)
    audit.record(
        conn,
        at=now,
        actor=PUBLIC_ACTOR,
        action="contact.request.submitted",
        subject_type="contact_case",
        subject_id=case_id,
        detail={"channel": channel, "people": len(request.protected_people)},
    )
    return reference


def _unused_reference(conn: Connection) -> str:
    reference = new_reference()
    while conn.execute(
        select(contact_cases.c.id).where(contact_cases.c.reference == reference)
    ).first():
        reference = new_reference()
    return reference


def _store_people(
    conn: Connection, cipher: FieldCipher, case_id: int, request: ContactRequest
) -> None:
    # Each protected person's details are encrypted on their own row, so a bar can name them
    # one by one and a case page decrypts only what it shows.
    for position, person in enumerate(request.protected_people):
        conn.execute(
            insert(contact_protected_people).values(
                case_id=case_id,
                position=position,
                details_enc=cipher.encrypt(json.dumps(person_to_json(person)), F_PERSON),
            )
        )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def draft_json(uow: UnitOfWork, cipher: FieldCipher, token: str | None) -> dict[str, Any]:
    """The public form's answers so far: the JSON request they build up, checked as a request
    (``parse_request``) when it is sent; empty when there is none or it has expired."""
    if not token:
        return {}
    row = uow.connection.execute(
        select(contact_drafts.c.data_enc, contact_drafts.c.expires_at).where(
            contact_drafts.c.token_hash == _token_hash(token)
        )
    ).first()
    if row is None or row.expires_at < uow.clock.now():
        return {}
    found: dict[str, Any] = json.loads(cipher.decrypt(row.data_enc, F_DRAFT))
    return found


def save_draft(uow: UnitOfWork, cipher: FieldCipher, token: str, data: dict[str, Any]) -> None:
    now = uow.clock.now()
    conn = uow.connection
    conn.execute(delete(contact_drafts).where(contact_drafts.c.expires_at < now))
    conn.execute(delete(contact_drafts).where(contact_drafts.c.token_hash == _token_hash(token)))
    conn.execute(
        insert(contact_drafts).values(
            token_hash=_token_hash(token),
            data_enc=cipher.encrypt(json.dumps(data), F_DRAFT),
            expires_at=now + DRAFT_LIFETIME,
        )
    )
