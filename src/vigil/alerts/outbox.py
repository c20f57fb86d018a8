"""The transactional outbox: pending deliveries written in the caller's transaction.

Contract for every part that sends something to a person or a system::

    from vigil.alerts import outbox

    with container.uow() as uow:
        ...change your own tables...
        outbox.enqueue(
            uow,
            channel="email",                  # a name registered in vigil.alerts.channels
            recipient="officer@example.org",  # channel-specific address
            subject="Weekly overview",
            body={"text": "...", ...},         # JSON-serialisable; channels read what they need
            idempotency_key="evidence:weekly:42:2026-W48",
        )
        uow.commit()

``enqueue`` writes one pending delivery in the caller's transaction and nothing else: the change
and its delivery commit together or not at all. The alert worker (``vigil alerts worker``, or the
background service in ``vigil serve``) claims it, sends it, retries with backoff while the channel
is down, and records every attempt. Delivery is at least once: the idempotency key travels with
the message (a header, an SMS reference, an email Message-ID) so receivers can drop duplicates.
Enqueueing the same key twice is a no-op, so a retried use case never sends twice.

The outbox is a queue, not an archive: once a delivery is delivered its body is dropped and its
recipient replaced by a digest (a requester's address may be a victim's), so callers keep their
own record of what they sent. Until then recipient and body sit in the table as given; do not put
a protected person's details in a body (the alert worker resolves those at send time).

Email bodies: ``{"text": str}`` (plain text). Webhook bodies: any JSON object. SMS bodies:
``{"text": str}``. Recipients are not checked here beyond being present; a channel that rejects
an address marks the delivery failed and records why.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vigil.alerts.model import DeliveryStatus, backoff
from vigil.alerts.tables import alert_deliveries, alert_delivery_attempts
from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector

MAX_KEY = 200
MAX_SUBJECT = 300


def enqueue(
    uow: UnitOfWork,
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: dict[str, Any],
    idempotency_key: str,
    alert_id: int | None = None,
) -> None:
    """Write a pending delivery in the caller's transaction (see the module docstring)."""
    from vigil.alerts.channels import CHANNEL_NAMES

    errors = ErrorCollector()
    errors.check(channel in CHANNEL_NAMES, "channel", f"unknown channel {channel!r}")
    errors.check(bool(recipient.strip()), "recipient", "is required")
    errors.check(len(recipient) <= 400, "recipient", "is longer than 400 characters")
    errors.check(0 < len(subject) <= MAX_SUBJECT, "subject", "must be 1 to 300 characters")
    errors.check(isinstance(body, dict), "body", "must be a JSON object")
    errors.check(
        0 < len(idempotency_key) <= MAX_KEY, "idempotency_key", "must be 1 to 200 characters"
    )
    errors.raise_if_any()
    now = uow.clock.now()
    values = {
        "alert_id": alert_id,
        "channel": channel,
        "recipient": recipient,
        "subject": subject,
        "body": body,
        "idempotency_key": idempotency_key,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    dialect_insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(alert_deliveries)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    uow.connection.execute(statement)


@dataclass(frozen=True)
class Claimed:
    id: int
    alert_id: int | None
    channel: str
    recipient: str
    subject: str
    body: dict[str, Any]
    idempotency_key: str
    attempt: int


def _due(now: datetime) -> Any:
    return or_(
        and_(
            alert_deliveries.c.status == DeliveryStatus.PENDING.value,
            alert_deliveries.c.next_attempt_at <= now,
        ),
        # A claim whose lease ran out belongs to a worker that died mid-delivery.
        and_(
            alert_deliveries.c.status == DeliveryStatus.IN_FLIGHT.value,
            alert_deliveries.c.claimed_until < now,
        ),
    )


def claim(
    uow: UnitOfWork, *, channel: str, worker: str, lease: timedelta, limit: int
) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries of one channel with one conditional UPDATE. The
    caller commits the claim before sending anything, so no other worker takes it meanwhile.

    The UPDATE re-checks that each row is still due, so two workers racing for the same rows
    cannot both get one: PostgreSQL re-evaluates the condition on the row it locks (and the
    candidates skip rows another worker holds), SQLite runs one writer at a time.
    """
    now = uow.clock.now()
    table = alert_deliveries
    candidates = (
        select(table.c.id)
        .where(table.c.channel == channel, _due(now))
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
    )
    if uow.dialect == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # A materialised CTE runs the LIMIT once: as an IN-subquery PostgreSQL may plan it as a join
    # that re-runs it per row, and a claim of 20 then takes every due delivery.
    chosen = candidates.cte("chosen").prefix_with("MATERIALIZED", dialect="postgresql")
    rows = uow.connection.execute(
        update(table)
        .where(table.c.id.in_(select(chosen.c.id)), _due(now))
        .values(
            status=DeliveryStatus.IN_FLIGHT.value,
            claimed_by=worker,
            claimed_until=now + lease,
            attempts=table.c.attempts + 1,
        )
        .returning(*CLAIMED_COLUMNS)
    ).all()
    claimed = [_claimed(row) for row in rows]
    return sorted(claimed, key=lambda item: item.id)


CLAIMED_COLUMNS = (
    alert_deliveries.c.id,
    alert_deliveries.c.alert_id,
    alert_deliveries.c.channel,
    alert_deliveries.c.recipient,
    alert_deliveries.c.subject,
    alert_deliveries.c.body,
    alert_deliveries.c.idempotency_key,
    alert_deliveries.c.attempts,
)


def _claimed(row: Any) -> Claimed:
    return Claimed(
        id=row.id,
        alert_id=row.alert_id,
        channel=row.channel,
        recipient=row.recipient,
        subject=row.subject,
        body=dict(row.body),
        idempotency_key=row.idempotency_key,
        attempt=row.attempts,
    )


# Recipients that are registry ids, not addresses; kept so rate limits can count them.
ID_RECIPIENT_CHANNELS = frozenset({"protected_person"})


def redacted(channel: str, recipient: str) -> str:
    if channel in ID_RECIPIENT_CHANNELS:
        return recipient
    return "sha256:" + hashlib.sha256(recipient.encode()).hexdigest()[:32]


def record_attempt(
    uow: UnitOfWork,
    delivery: Claimed,
    *,
    worker: str,
    started_at: datetime,
    error: str | None,
    permanent: bool,
    backoff_base: timedelta,
    backoff_cap: timedelta,
) -> bool:
    """Record one attempt and move the delivery on. False if the claim was lost
    (the lease ran out and another worker took it), in which case nothing but the attempt is
    written: the other worker's outcome stands."""
    now = uow.clock.now()
    conn = uow.connection
    conn.execute(
        insert(alert_delivery_attempts).values(
            delivery_id=delivery.id,
            attempt=delivery.attempt,
            worker=worker,
            started_at=started_at,
            finished_at=now,
            ok=error is None,
            error=error,
        )
    )
    values = _outcome(delivery, now, error, permanent, backoff_base, backoff_cap)
    result = conn.execute(
        update(alert_deliveries)
        .where(
            alert_deliveries.c.id == delivery.id,
            alert_deliveries.c.claimed_by == worker,
            alert_deliveries.c.status == DeliveryStatus.IN_FLIGHT.value,
        )
        .values(**values)
    )
    return result.rowcount == 1


def _outcome(
    delivery: Claimed,
    now: datetime,
    error: str | None,
    permanent: bool,
    backoff_base: timedelta,
    backoff_cap: timedelta,
) -> dict[str, Any]:
    """Where an attempt leaves the delivery: delivered (its body and address no longer kept),
    failed for good, or due again after a backoff."""
    if error is None:
        return {
            "status": DeliveryStatus.DELIVERED.value,
            "delivered_at": now,
            "claimed_until": None,
            "last_error": None,
            "body": {},
            "recipient": redacted(delivery.channel, delivery.recipient),
        }
    if permanent:
        return {"status": DeliveryStatus.FAILED.value, "claimed_until": None, "last_error": error}
    return {
        "status": DeliveryStatus.PENDING.value,
        "claimed_until": None,
        "last_error": error,
        "next_attempt_at": now + backoff(delivery.attempt, base=backoff_base, cap=backoff_cap),
    }


def oldest_due(uow: UnitOfWork, now: datetime) -> datetime | None:
    """When the longest-waiting delivery that is due fell due: how far behind sending is."""
    query = select(func.min(alert_deliveries.c.next_attempt_at)).where(
        alert_deliveries.c.status == DeliveryStatus.PENDING.value,
        alert_deliveries.c.next_attempt_at <= now,
    )
    found: datetime | None = uow.connection.execute(query).scalar_one()
    return found


def depth_by_channel(uow: UnitOfWork) -> dict[str, int]:
    """Deliveries not yet delivered, by channel (pending or being sent)."""
    query = (
        select(alert_deliveries.c.channel, func.count())
        .where(
            alert_deliveries.c.status.in_(
                [DeliveryStatus.PENDING.value, DeliveryStatus.IN_FLIGHT.value]
            )
        )
        .group_by(alert_deliveries.c.channel)
    )
    return {channel: int(n) for channel, n in uow.connection.execute(query)}


def failed_attempts_by_channel(uow: UnitOfWork) -> dict[str, int]:
    """Delivery attempts that failed, by channel, as kept (each retried until it succeeds or the
    receiver refuses for good): a channel failing shows here before its backlog grows."""
    query = (
        select(alert_deliveries.c.channel, func.count())
        .select_from(
            alert_delivery_attempts.join(
                alert_deliveries, alert_deliveries.c.id == alert_delivery_attempts.c.delivery_id
            )
        )
        .where(alert_delivery_attempts.c.ok.is_(False))
        .group_by(alert_deliveries.c.channel)
    )
    return {channel: int(n) for channel, n in uow.connection.execute(query)}
