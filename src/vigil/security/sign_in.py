"""Signing in and out: passwords checked with throttling, the second factor, sessions that
expire, and ending every session of a user."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update

from vigil.db.uow import UnitOfWork
from vigil.security import audit, throttle
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal
from vigil.security.passwords import verify_password
from vigil.security.service import _principal_from_user, _sha256
from vigil.security.tables import user_sessions, users

SESSION_LIFETIME = timedelta(hours=12)  # absolute: signed in once a shift
_LAST_SEEN_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    principal: Principal
    expires_at: datetime


class SignInThrottled(Exception):
    """Too many failed sign-ins for this account or from this client: wait until ``until``."""

    def __init__(self, until: datetime, locked: bool) -> None:
        super().__init__(f"sign-in refused until {until.isoformat()}")
        self.until = until
        self.locked = locked


def _throttle_keys(username: str, client: str) -> list[str]:
    # Per account (guessing one password from many addresses) and per client (one address
    # trying many accounts); the account key is case-folded so "Admin" counts as "admin".
    return [f"login:user:{username.strip().casefold()}"[:200], f"login:client:{client}"[:200]]


class SecondFactorRequired(Exception):
    """The password was right and the user has a second factor: ask for a code next."""

    def __init__(self, user_id: int) -> None:
        super().__init__("a second factor is required")
        self.user_id = user_id


def _refuse_if_throttled(uow: UnitOfWork, keys: list[str], client: str) -> None:
    conn = uow.connection
    now = uow.clock.now()
    block = throttle.blocked(conn, keys, now)
    if block is None:
        return
    audit.record(
        conn,
        at=now,
        actor="anonymous",
        action="login.throttled",
        subject_type="user",
        subject_id=None,
        detail={"client": client, "until": block.until.isoformat()},
    )
    raise SignInThrottled(block.until, block.failures >= throttle.LOCKOUT_FAILURES)


def _count_attempt(
    uow: UnitOfWork, keys: list[str], row: Any, ok: bool, client: str, step: str
) -> None:
    """Clear or count the throttle keys, and audit the attempt."""
    conn = uow.connection
    now = uow.clock.now()
    if ok:
        for key in keys:
            throttle.clear(conn, key)
    else:
        failures = max(throttle.record_failure(conn, key, now) for key in keys)
        if failures == throttle.LOCKOUT_FAILURES:
            audit.record(
                conn,
                at=now,
                actor="system",
                action="login.locked",
                subject_type="user",
                subject_id=row.id if row else None,
                detail={"client": client, "failures": failures},
            )
    detail: dict[str, Any] = {"client": client, "step": step}
    if row is None:
        detail["username_unknown"] = True
    audit.record(
        conn,
        at=now,
        actor=f"user:{row.id}:{row.username}" if row else "anonymous",
        action="login.success" if ok else "login.failure",
        subject_type="user",
        subject_id=row.id if row else None,
        detail=detail,
    )


def _open_session(uow: UnitOfWork, row: Any) -> NewSession:
    conn = uow.connection
    now = uow.clock.now()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + SESSION_LIFETIME
    conn.execute(delete(user_sessions).where(user_sessions.c.expires_at < now))
    conn.execute(
        insert(user_sessions).values(
            token_hash=_sha256(token),
            user_id=row.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
            last_seen_at=now,
        )
    )
    return NewSession(token, csrf, _principal_from_user(row), expires)


def log_in(uow: UnitOfWork, username: str, password: str, client: str) -> NewSession | None:
    """Check a password; on success open a session. Every attempt is audited.

    Repeated failures for an account or from a client make it wait, longer after each failure
    (``throttle``); while it waits no password is checked, so guessing goes no faster. A user
    with a second factor gets ``SecondFactorRequired`` instead of a session.
    """
    keys = _throttle_keys(username, client)
    _refuse_if_throttled(uow, keys, client)
    row = uow.connection.execute(
        select(users).where(users.c.username == username.strip(), users.c.active.is_(True))
    ).first()
    ok = verify_password(row.password_hash if row else None, password)
    if ok and row is not None and row.totp_enabled:
        # The throttle is cleared only when the code is right too.
        raise SecondFactorRequired(int(row.id))
    _count_attempt(uow, keys, row, ok, client, "password")
    if not ok or row is None:
        return None
    return _open_session(uow, row)


def complete_second_factor(
    uow: UnitOfWork, cipher: FieldCipher, user_id: int, code: str, client: str
) -> NewSession | None:
    """After the password: a TOTP or recovery code opens the session; a wrong one counts as a
    failed sign-in."""
    from vigil.security import totp

    row = uow.connection.execute(
        select(users).where(users.c.id == user_id, users.c.active.is_(True))
    ).first()
    if row is None:
        return None
    keys = _throttle_keys(row.username, client)
    _refuse_if_throttled(uow, keys, client)
    ok = totp.check(uow, cipher, user_id, code)
    _count_attempt(uow, keys, row, ok, client, "second_factor")
    if not ok:
        return None
    return _open_session(uow, row)


@dataclass(frozen=True)
class SessionInfo:
    principal: Principal
    csrf_token: str


def session_principal(
    uow: UnitOfWork, token: str, idle: timedelta | None = None
) -> SessionInfo | None:
    """The session's user, unless it has passed its absolute lifetime or been unused for longer
    than ``idle`` (a screen left unattended stops showing victims' details)."""
    now = uow.clock.now()
    token_hash = _sha256(token)
    row = uow.connection.execute(
        select(users, user_sessions.c.csrf_token, user_sessions.c.last_seen_at)
        .join(user_sessions, user_sessions.c.user_id == users.c.id)
        .where(
            user_sessions.c.token_hash == token_hash,
            user_sessions.c.expires_at > now,
            users.c.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    if idle is not None and row.last_seen_at is not None and row.last_seen_at < now - idle:
        uow.connection.execute(
            delete(user_sessions).where(user_sessions.c.token_hash == token_hash)
        )
        return None
    if row.last_seen_at is None or row.last_seen_at < now - _LAST_SEEN_GRANULARITY:
        uow.connection.execute(
            update(user_sessions)
            .where(user_sessions.c.token_hash == token_hash)
            .values(last_seen_at=now)
        )
    return SessionInfo(_principal_from_user(row), row.csrf_token)


def log_out(uow: UnitOfWork, token: str, principal: Principal) -> None:
    uow.connection.execute(
        delete(user_sessions).where(user_sessions.c.token_hash == _sha256(token))
    )
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="logout",
        subject_type="user",
        subject_id=principal.id,
    )


def end_all_sessions(uow: UnitOfWork, user_id: int, actor: str) -> int:
    """End every session of a user ("sign out everywhere", or an administrator's action)."""
    ended = uow.connection.execute(
        delete(user_sessions).where(user_sessions.c.user_id == user_id)
    ).rowcount
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=actor,
        action="sessions.end_all",
        subject_type="user",
        subject_id=user_id,
        detail={"sessions": ended},
    )
    return int(ended or 0)
