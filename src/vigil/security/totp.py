"""A second factor: time-based one-time passwords (RFC 6238, with ``pyotp``) and recovery codes.

Enrolment stores a new secret (field-encrypted) and shows it as a QR code; it takes effect only
once the user types a code from their app, and then ten single-use recovery codes are shown once
(only their hashes are kept). At sign-in a user with the factor on gives a code after the
password; each 30-second code works once, and a wrong code counts as a failed sign-in for the
throttle.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import insert, select, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.security import audit
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal
from vigil.security.tables import recovery_codes, users
from vigil.text import ascii_digits

ISSUER = "Vigil"
_FIELD = "users.totp_secret_enc"
RECOVERY_CODES = 10
STEP_S = 30


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


def start_enrolment(uow: UnitOfWork, cipher: FieldCipher, principal: Principal) -> Enrolment:
    """A fresh secret for the user, in force once a first code confirms it. Replacing an app
    overwrites the old secret: until the new one is confirmed, recovery codes still work."""
    secret = pyotp.random_base32()
    uow.connection.execute(
        update(users)
        .where(users.c.id == principal.id)
        .values(totp_secret_enc=cipher.encrypt(secret, _FIELD))
    )
    return _enrolment(secret, principal.name)


def _enrolment(secret: str, name: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_inline(scale=4, title="Scan with your authenticator app")
    return Enrolment(secret, uri, qr)


def _step(at: datetime) -> int:
    return int(at.timestamp()) // STEP_S


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step (now, or one either side for clock drift) whose code is ``code``."""
    code = code.strip().replace(" ", "")
    if not ascii_digits(code) or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        step = _step(at) + drift
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


def confirm_enrolment(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, code: str
) -> list[str]:
    """Turn the factor on with a first code; returns the recovery codes (shown once)."""
    conn = uow.connection
    row = conn.execute(select(users).where(users.c.id == principal.id)).first()
    if row is None or row.totp_secret_enc is None:
        raise ValidationError("code", "start setting up the authenticator app first")
    secret = cipher.decrypt(row.totp_secret_enc, _FIELD)
    now = uow.clock.now()
    step = _matching_step(secret, code, now)
    if step is None:
        raise ValidationError("code", "Enter the 6-digit code your app shows now")
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    conn.execute(
        update(users)
        .where(users.c.id == principal.id)
        .values(totp_enabled=True, totp_last_step=step)
    )
    conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == principal.id))
    conn.execute(
        insert(recovery_codes), [{"user_id": principal.id, "code_hash": _hash(c)} for c in codes]
    )
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="two_factor.enabled",
        subject_type="user",
        subject_id=principal.id,
    )
    return codes


def is_enabled(uow: UnitOfWork, user_id: int) -> bool:
    found = uow.connection.execute(
        select(users.c.totp_enabled).where(users.c.id == user_id)
    ).scalar()
    return bool(found)


def check(uow: UnitOfWork, cipher: FieldCipher, user_id: int, code: str) -> bool:
    """A current TOTP code not used before, or an unused recovery code (which is then spent)."""
    conn = uow.connection
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None or not row.totp_enabled or row.totp_secret_enc is None:
        return False
    now = uow.clock.now()
    step = _matching_step(cipher.decrypt(row.totp_secret_enc, _FIELD), code, now)
    if step is not None:
        if row.totp_last_step is not None and step <= row.totp_last_step:
            return False  # replayed: this code (or a later one) was already used
        conn.execute(update(users).where(users.c.id == user_id).values(totp_last_step=step))
        return True
    spent = conn.execute(
        update(recovery_codes)
        .where(
            recovery_codes.c.user_id == user_id,
            recovery_codes.c.code_hash == _hash(code),
            recovery_codes.c.used_at.is_(None),
        )
        .values(used_at=now)
    ).rowcount
    if spent:
        audit.record(
            conn,
            at=now,
            actor=f"user:{user_id}:{row.username}",
            action="two_factor.recovery_code_used",
            subject_type="user",
            subject_id=user_id,
        )
    return bool(spent)
