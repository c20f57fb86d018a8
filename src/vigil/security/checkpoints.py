"""Signed checkpoints of the audit chain, written where the database cannot rewrite them.

Every ``audit_checkpoint_interval_s`` the newest entry's id and hash are signed with the
system's Ed25519 key (the one that signs evidence packs) and appended as one JSON line to
``VIGIL_AUDIT_CHECKPOINT_PATH`` (a file on other storage, ideally append-only or shipped off the
host). ``vigil audit verify`` then checks the chain against the latest checkpoint:

* the entry it names is gone → the log was **truncated**;
* the entry is there with a different hash → the chain was **recomputed** after an edit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, func, select

from vigil.host import Host
from vigil.logs import get_logger
from vigil.security.tables import audit_log
from vigil.settings import Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    last_id: int
    last_hash: str
    entries: int
    at: str

    def signed_part(self) -> bytes:
        body = {"last_id": self.last_id, "last_hash": self.last_hash, "entries": self.entries}
        return json.dumps({**body, "at": self.at}, sort_keys=True, separators=(",", ":")).encode()


def _signing_key(settings: Settings) -> Any:
    from vigil.evidence.packs import signing_key

    return signing_key(settings)


def current(connection: Connection, now: datetime) -> Checkpoint | None:
    last = connection.execute(
        select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
    ).first()
    if last is None:
        return None
    count = connection.execute(select(func.count()).select_from(audit_log)).scalar_one()
    return Checkpoint(int(last.id), str(last.hash), int(count), now.isoformat())


def write(connection: Connection, settings: Settings, path: Path, now: datetime) -> Checkpoint:
    """Sign the chain's head and append it to ``path`` (flushed to disk before returning)."""
    point = current(connection, now)
    if point is None:
        point = Checkpoint(0, "", 0, now.isoformat())
    key = _signing_key(settings)
    line = {
        **json.loads(point.signed_part()),
        "key_id": key.key_id,
        "signature": base64.b64encode(key.private.sign(point.signed_part())).decode(),
    }
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return point


class CheckpointError(Exception):
    """The checkpoint file is unreadable or its last line is not signed by this system."""


def latest(settings: Settings, path: Path) -> Checkpoint | None:
    if not path.exists():
        return None
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        return None
    try:
        data = json.loads(lines[-1])
        point = Checkpoint(
            int(data["last_id"]), str(data["last_hash"]), int(data["entries"]), str(data["at"])
        )
        signature = base64.b64decode(data["signature"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"the last checkpoint in {path} is not readable") from exc
    public = Ed25519PublicKey.from_public_bytes(_signing_key(settings).public_raw)
    try:
        public.verify(signature, point.signed_part())
    except InvalidSignature as exc:
        raise CheckpointError(
            f"the last checkpoint in {path} is not signed by this system"
        ) from exc
    return point


def compare(connection: Connection, point: Checkpoint) -> str | None:
    """What is wrong with the chain given a trusted checkpoint, or None when it agrees."""
    if point.last_id == 0:
        return None
    row = connection.execute(
        select(audit_log.c.hash).where(audit_log.c.id == point.last_id)
    ).first()
    if row is None:
        return f"truncated: entry {point.last_id}, signed in the checkpoint of {point.at}, is gone"
    if row.hash != point.last_hash:
        return (
            f"recomputed: entry {point.last_id} no longer has the hash signed in the checkpoint"
            f" of {point.at}"
        )
    return None


async def run(container: Host, stop: asyncio.Event) -> None:
    """Background service: write a checkpoint every interval, when a path is configured."""
    path_text = container.settings.audit_checkpoint_path.strip()
    if not path_text:
        return
    path = Path(path_text)
    while not stop.is_set():
        try:
            with container.uow() as uow:
                write(uow.connection, container.settings, path, container.clock.now())
        except Exception:  # storage or database trouble: try again on the next round
            log.exception("audit.checkpoint_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                stop.wait(), timeout=container.settings.audit_checkpoint_interval_s
            )
