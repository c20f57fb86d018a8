"""Keys for devices that report through an HTTP door: issued once, only their hash kept."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update

from vigil.db.uow import UnitOfWork
from vigil.devices.tables import devices
from vigil.errors import NotFound
from vigil.security import audit, permissions
from vigil.security.model import Principal


def key_hash(key: str) -> str:
    """Keys are 256 random bits, so a plain hash is enough (no stretching needed) and cheap enough
    for a door to check on every request."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def issue_key(uow: UnitOfWork, principal: Principal, device_id: int) -> str:
    """A new key for a phone or app that reports through an HTTP door; the old one stops working.
    Returned once: only its hash is kept."""
    principal.require(permissions.DEVICES_WRITE)
    key = secrets.token_urlsafe(32)
    updated = uow.connection.execute(
        update(devices).where(devices.c.id == device_id).values(key_hash=key_hash(key))
    )
    if updated.rowcount != 1:
        raise NotFound(f"device {device_id}")
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="device.issue_key",
        subject_type="device",
        subject_id=device_id,
        detail={},
    )
    return key


def key_hashes(uow: UnitOfWork) -> dict[str, str]:
    """External id → key hash, for devices that have been issued a key."""
    rows = uow.connection.execute(
        select(devices.c.external_id, devices.c.key_hash).where(devices.c.key_hash.is_not(None))
    )
    return {external_id: digest for external_id, digest in rows}
