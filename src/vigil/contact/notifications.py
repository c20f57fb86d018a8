"""Messages to requesters: queued with the decision that causes them, sealed at rest,
and read back for delivery."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import insert, select, update

from vigil.contact.casefile import F_BODY, F_RECIPIENT, F_REQUEST
from vigil.contact.tables import (
    contact_notifications,
)
from vigil.db.uow import UnitOfWork
from vigil.security import audit
from vigil.security.crypto import PREFIX, DecryptionError, FieldCipher


def notify_requester(
    uow: UnitOfWork, cipher: FieldCipher, case: Any, now: datetime, body: str
) -> None:
    """Tell the requester the outcome through the alert channels' outbox, in this transaction.

    Messages name only the reference and the decision, never where the prisoner is held. A copy
    is kept on the case (encrypted) so the handler sees what was sent.
    """
    from vigil.alerts import outbox

    conn = uow.connection
    request = json.loads(cipher.decrypt(case.request_enc, F_REQUEST))["requester"]
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
                    recipient_enc=cipher.encrypt(recipient, F_RECIPIENT),
                    body_enc=cipher.encrypt(message, F_BODY),
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


class Notice(TypedDict):
    """A notice about a case, to its requester or handler, its text decrypted."""

    audience: str
    channel: str
    recipient: str | None
    body: str
    sent_at: datetime | None


def pending_notifications(uow: UnitOfWork, cipher: FieldCipher, case_id: int) -> list[Notice]:
    rows = uow.connection.execute(
        select(contact_notifications)
        .where(contact_notifications.c.case_id == case_id)
        .order_by(contact_notifications.c.id)
    )
    return [
        {
            "audience": r.audience,
            "channel": r.channel,
            "recipient": cipher.decrypt_optional(r.recipient_enc, F_RECIPIENT),
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
        return cipher.decrypt(stored, F_BODY)
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
            .values(body_enc=cipher.encrypt(row.body_enc, F_BODY))
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
    return len(rows)
