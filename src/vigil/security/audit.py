"""Append-only, keyed hash chain: each entry carries the HMAC of its content and the entry before.

The key is held outside the database (derived from the secret key, see ``audit_key``) and given to
the engine by ``install_key``: someone who can rewrite the table but does not hold
the key cannot recompute the chain after an edit. Truncation (deleting the newest entries) and a
recomputation by someone who does hold the key are caught by signed checkpoints
(``vigil.security.checkpoints``) kept where the database cannot reach.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Table, delete, insert, select, text

from vigil.db.uow import UnitOfWork
from vigil.security.tables import audit_log

GENESIS = "0" * 64
# Any constant will do: it only has to be the same for every writer of the chain.
_PG_CHAIN_LOCK = 0x56494749
_KEYS: weakref.WeakKeyDictionary[Engine, tuple[bytes, int]] = weakref.WeakKeyDictionary()


def audit_key(secret_key: str) -> bytes:
    """The chain key, derived from the secret key (held in the environment, not the database)."""
    seed = (secret_key or "vigil-development-only").encode()
    return hmac.new(seed, b"vigil audit chain v1", hashlib.sha256).digest()


def install_key(engine: Engine, key: bytes, unkeyed_until: int = 0) -> None:
    """Give ``engine`` the chain key, so every ``record`` and ``verify`` on its connections
    finds it without each of the many callers passing it.

    ``unkeyed_until`` is the last entry a Vigil from before the keyed chain wrote (plain SHA-256):
    those are checked the old way, every later one with the key. It comes from the settings,
    outside the database, so rewriting the whole table the unkeyed way does not pass for history.
    """
    _KEYS[engine] = (key, unkeyed_until)


def _key(connection: Connection) -> bytes | None:
    installed = _KEYS.get(connection.engine)
    return installed[0] if installed else None


def _unkeyed_until(connection: Connection) -> int:
    installed = _KEYS.get(connection.engine)
    return installed[1] if installed else 0


def entry_hash(
    key: bytes | None,
    prev_hash: str,
    entry_id: int,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | None,
    detail: str,
) -> str:
    canonical = json.dumps(
        [prev_hash, entry_id, at.isoformat(), actor, action, subject_type, subject_id, detail],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    if key is None:
        # An engine built outside the container (a one-off script) has no key: plain SHA-256.
        return hashlib.sha256(canonical.encode()).hexdigest()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def record(
    connection: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction, so the change and its audit commit together.

    ``detail`` must never contain a protected person's details: name what was seen, not its value.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_LOCK})
    last = connection.execute(
        select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
    ).first()
    prev_hash = last.hash if last else GENESIS
    entry_id = (last.id + 1) if last else 1
    detail_text = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), default=str)
    sid = None if subject_id is None else str(subject_id)
    connection.execute(
        insert(audit_log).values(
            id=entry_id,
            at=at,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=sid,
            detail=detail_text,
            prev_hash=prev_hash,
            hash=entry_hash(
                _key(connection),
                prev_hash,
                entry_id,
                at,
                actor,
                action,
                subject_type,
                sid,
                detail_text,
            ),
        )
    )


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_broken_id: int | None
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None


def verify(connection: Connection) -> ChainReport:
    """Walk the chain in order; report the first entry whose link or content does not hold."""
    prev_hash = GENESIS
    expected_id = 1
    count = 0
    key, unkeyed_until = _key(connection), _unkeyed_until(connection)
    rows = connection.execute(select(audit_log).order_by(audit_log.c.id)).yield_per(5000)
    for row in rows:
        count += 1
        if row.id != expected_id:
            return ChainReport(count, row.id, f"entry {expected_id} is missing before {row.id}")
        if row.prev_hash != prev_hash:
            return ChainReport(count, row.id, "previous-hash link does not match the entry before")
        if _row_hash(None if row.id <= unkeyed_until else key, row) != row.hash:
            return ChainReport(count, row.id, "content was altered after it was written")
        prev_hash = row.hash
        expected_id += 1
    return ChainReport(count, None, None)


def _row_hash(key: bytes | None, row: Any) -> str:
    return entry_hash(
        key,
        row.prev_hash,
        row.id,
        row.at,
        row.actor,
        row.action,
        row.subject_type,
        row.subject_id,
        row.detail,
    )


def unkeyed_prefix(connection: Connection) -> int:
    """How many entries from the start carry a plain SHA-256 hash: what a Vigil from before the
    keyed chain wrote, to be named in ``VIGIL_AUDIT_UNKEYED_UNTIL`` once, when upgrading."""
    last = 0
    prev_hash = GENESIS
    for row in connection.execute(select(audit_log).order_by(audit_log.c.id)).yield_per(5000):
        if row.id != last + 1 or row.prev_hash != prev_hash or _row_hash(None, row) != row.hash:
            break
        last, prev_hash = row.id, row.hash
    return last


def delete_for_retention(
    uow: UnitOfWork, table: Table, *where: ColumnElement[bool], before: datetime, actor: str
) -> int:
    """Delete the rows of ``table`` a retention schedule releases, in the caller's transaction,
    with one audit entry saying what and how many."""
    deleted = int(uow.connection.execute(delete(table).where(*where)).rowcount)
    record(
        uow.connection,
        at=uow.clock.now(),
        actor=actor,
        action=f"{table.name}.retention",
        subject_type=table.name,
        detail={"before": before.isoformat(), "deleted": deleted},
    )
    return deleted
