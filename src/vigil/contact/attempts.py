"""Barred contact attempts: recording them, raising an alert when they repeat, and the case
handler's alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import Connection, func, insert, select, update

from vigil.contact.casefile import F_BODY, F_ITEM
from vigil.contact.index import (
    Entry,
)
from vigil.contact.model import ATTEMPT_THRESHOLD, ATTEMPT_WINDOW, AttemptKind, ItemKind
from vigil.contact.tables import (
    contact_alerts,
    contact_attempts,
    contact_bar_changes,
    contact_bar_items,
    contact_cases,
    contact_notifications,
)
from vigil.db.uow import UnitOfWork
from vigil.errors import NotFound, ValidationError
from vigil.security import audit, permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal
from vigil.text import ascii_digits


def acknowledge_alert(uow: UnitOfWork, principal: Principal, alert_id: int) -> None:
    principal.require(permissions.CONTACT_CASES)
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


class ContactAlert(TypedDict):
    """A barred prisoner's repeated attempts at contact (calls or letters in 24 hours), not yet
    acknowledged."""

    id: int
    case_id: int
    reference: str
    message: str
    raised_at: datetime
    attempts: int


def open_alerts(uow: UnitOfWork, principal: Principal) -> list[ContactAlert]:
    principal.require(permissions.CONTACT_CASES)
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


def record_attempt(
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
    existing = _open_alert(conn, case_id, prison_number, kind, now)
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
    _queue_for_case_handler(conn, cipher, case_id, f"Alert {alert_id}: {message}", now)
    audit.record(
        conn,
        at=now,
        actor="system",
        action="contact.alert.raised",
        subject_type="contact_alert",
        subject_id=alert_id,
        detail={"case_id": case_id, "prison_number": prison_number, "attempts": attempts},
    )


def _open_alert(
    conn: Connection, case_id: int, prison_number: str, kind: AttemptKind, now: datetime
) -> int | None:
    """The unacknowledged alert of the last day for the same prisoner, case and kind: repeated
    attempts update its count rather than raise another."""
    found = conn.execute(
        select(contact_alerts.c.id).where(
            contact_alerts.c.case_id == case_id,
            contact_alerts.c.prison_number == prison_number,
            contact_alerts.c.kind == kind.value,
            contact_alerts.c.acknowledged_at.is_(None),
            contact_alerts.c.raised_at > now - ATTEMPT_WINDOW,
        )
    ).scalar()
    return None if found is None else int(found)


def _queue_for_case_handler(
    conn: Connection, cipher: FieldCipher, case_id: int, text: str, now: datetime
) -> None:
    conn.execute(
        insert(contact_notifications).values(
            created_at=now,
            case_id=case_id,
            audience="case_handler",
            channel="queue",
            recipient_enc=None,
            # Encrypted like every notice body: the case page decrypts them all.
            body_enc=cipher.encrypt(text, F_BODY),
        )
    )


class FeedChange(TypedDict):
    """A barred number added or removed, as phone platforms read it."""

    id: int
    number: str
    scope: str
    prison_number: str | None
    at: str
    seq: int


class FeedPage(TypedDict):
    additions: list[FeedChange]
    removals: list[FeedChange]
    cursor: str
    more: bool


def barred_numbers_since(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, since: str | None, limit: int = 1000
) -> FeedPage:
    """Delta feed for phone platforms: additions and removals after the cursor, in order."""
    principal.require(permissions.BARRED_NUMBERS_FEED)
    cursor = _feed_cursor(since)
    limit = max(1, min(limit, 10_000))
    conn = uow.connection
    rows = _phone_changes(conn, cursor, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    additions: list[FeedChange] = []
    removals: list[FeedChange] = []
    for r in rows:
        entry: FeedChange = {
            "id": r.id,
            "number": cipher.decrypt(r.value_enc, F_ITEM),
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
    return {"additions": additions, "removals": removals, "cursor": str(next_cursor), "more": more}


def _feed_cursor(since: str | None) -> int:
    if since is None or since == "":
        return 0
    if not ascii_digits(since) or len(since) > 18:
        raise ValidationError("since", "must be a cursor this feed returned")
    return int(since)


def _phone_changes(conn: Connection, cursor: int, limit: int) -> Sequence[Any]:
    """Changes to barred phone numbers after the cursor, in the order they were made."""
    return conn.execute(
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
        .limit(limit)
    ).all()
