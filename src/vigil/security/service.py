"""Security use cases: users, logins and sessions, machine tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.security import audit, throttle
from vigil.security.crypto import FieldCipher
from vigil.security.model import HUMAN_ROLES, MACHINE_ROLES, Principal, Role
from vigil.security.passwords import hash_password, verify_password
from vigil.security.tables import api_tokens, user_sessions, users

SESSION_LIFETIME = timedelta(hours=12)  # absolute: signed in once a shift
_LAST_SEEN_GRANULARITY = timedelta(minutes=1)


def _sha256(token: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough to store them safely.
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    uow: UnitOfWork,
    *,
    username: str,
    password: str,
    role: Role | str,
    display_name: str | None = None,
    team_id: int | None = None,
    force_area: str | None = None,
    email: str | None = None,
    actor: str = "system",
) -> int:
    username = username.strip()
    if not username or len(username) > 80:
        raise ValidationError("username", "must be 1 to 80 characters")
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError("role", f"unknown role {role!r}") from exc
    if role not in HUMAN_ROLES:
        raise ValidationError("role", f"{role} is a machine role; use a token instead")
    if role is Role.PROBATION_OFFICER and team_id is None:
        raise ValidationError("team_id", "a probation officer must belong to a team")
    if role is Role.POLICE and not force_area:
        raise ValidationError("force_area", "a police user must have a force area")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise ValidationError("password", str(exc).split(": ", 1)[1]) from exc
    conn = uow.connection
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise ValidationError("username", f"{username!r} is already taken")
    user_id = conn.execute(
        insert(users)
        .values(
            username=username,
            display_name=display_name or username,
            password_hash=password_hash,
            role=role.value,
            team_id=team_id,
            force_area=force_area,
            email=email,
            active=True,
            created_at=uow.clock.now(),
        )
        .returning(users.c.id)
    ).scalar_one()
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=actor,
        action="user.create",
        subject_type="user",
        subject_id=user_id,
        detail={"username": username, "role": role.value},
    )
    uow.commit()
    return int(user_id)


def _principal_from_user(row: object) -> Principal:
    return Principal(
        id=row.id,  # type: ignore[attr-defined]
        name=row.username,  # type: ignore[attr-defined]
        role=Role(row.role),  # type: ignore[attr-defined]
        team_id=row.team_id,  # type: ignore[attr-defined]
        force_area=row.force_area,  # type: ignore[attr-defined]
        second_factor=bool(row.totp_enabled),  # type: ignore[attr-defined]
    )


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
    uow.commit()
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
    uow.commit()
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
        uow.commit()
        raise SecondFactorRequired(int(row.id))
    _count_attempt(uow, keys, row, ok, client, "password")
    if not ok or row is None:
        uow.commit()
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
        uow.commit()
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
        uow.commit()
        return None
    if row.last_seen_at is None or row.last_seen_at < now - _LAST_SEEN_GRANULARITY:
        uow.connection.execute(
            update(user_sessions)
            .where(user_sessions.c.token_hash == token_hash)
            .values(last_seen_at=now)
        )
        uow.commit()
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
    uow.commit()


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
    uow.commit()
    return int(ended or 0)


TOKEN_LIFETIME = timedelta(days=90)
MAX_TOKEN_LIFETIME = timedelta(days=365)
# After a rotation the old token keeps working this long, so the client can be switched over.
ROTATION_OVERLAP = timedelta(hours=1)


def create_token(
    uow: UnitOfWork,
    *,
    role: Role | str,
    name: str,
    actor: str = "system",
    lifetime: timedelta = TOKEN_LIFETIME,
    machine_only: bool = False,
) -> str:
    """Create an API token; the plaintext is returned once and only its hash is kept. Every
    token expires. ``machine_only`` (what ``vigil token create`` asks) refuses people's roles:
    a token skips CSRF and acts without a person's sign-in, so it is for machines."""
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError("role", f"unknown role {role!r}") from exc
    if machine_only and role not in MACHINE_ROLES:
        machines = ", ".join(sorted(r.value for r in MACHINE_ROLES))
        raise ValidationError("role", f"{role} is a person's role; tokens are for {machines}")
    name = name.strip()
    if not name or len(name) > 120:
        raise ValidationError("name", "must be 1 to 120 characters")
    if not timedelta(0) < lifetime <= MAX_TOKEN_LIFETIME:
        raise ValidationError("lifetime", "must be more than 0 and at most 365 days")
    token = "vgl_" + secrets.token_urlsafe(32)
    now = uow.clock.now()
    token_id = uow.connection.execute(
        insert(api_tokens)
        .values(
            name=name,
            role=role.value,
            token_hash=_sha256(token),
            created_at=now,
            expires_at=now + lifetime,
        )
        .returning(api_tokens.c.id)
    ).scalar_one()
    audit.record(
        uow.connection,
        at=now,
        actor=actor,
        action="token.create",
        subject_type="api_token",
        subject_id=token_id,
        detail={"name": name, "role": role.value, "expires_at": (now + lifetime).isoformat()},
    )
    uow.commit()
    return token


def rotate_token(
    uow: UnitOfWork, token_id: int, actor: str, lifetime: timedelta = TOKEN_LIFETIME
) -> str:
    """A new token for the same client and role; the old one ends after ``ROTATION_OVERLAP``."""
    now = uow.clock.now()
    row = uow.connection.execute(
        select(api_tokens).where(
            api_tokens.c.id == token_id,
            api_tokens.c.revoked_at.is_(None),
            or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
        )
    ).first()
    if row is None:
        raise ValidationError("token_id", "no live token has this id")
    ends = now + ROTATION_OVERLAP
    if row.expires_at is None or row.expires_at > ends:
        uow.connection.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(expires_at=ends)
        )
    audit.record(
        uow.connection,
        at=now,
        actor=actor,
        action="token.rotate",
        subject_type="api_token",
        subject_id=token_id,
        detail={"old_token_ends_at": ends.isoformat()},
    )
    return create_token(uow, role=row.role, name=row.name, actor=actor, lifetime=lifetime)


def list_tokens(uow: UnitOfWork) -> list[dict[str, object]]:
    rows = uow.connection.execute(select(api_tokens).order_by(api_tokens.c.id))
    return [
        {
            "id": r.id,
            "name": r.name,
            "role": r.role,
            "created_at": r.created_at,
            "expires_at": r.expires_at,
            "revoked_at": r.revoked_at,
        }
        for r in rows
    ]


def token_principal(uow: UnitOfWork, token: str) -> Principal | None:
    row = uow.connection.execute(
        select(api_tokens).where(
            api_tokens.c.token_hash == _sha256(token),
            api_tokens.c.revoked_at.is_(None),
            # Tokens from before expiry existed have none; `vigil token rotate` gives them one.
            or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > uow.clock.now()),
        )
    ).first()
    if row is None:
        return None
    role = Role(row.role)
    return Principal(id=row.id, name=row.name, role=role, is_machine=role in MACHINE_ROLES)


# Revocation and expiry reach every process within this many seconds.
TOKEN_CACHE_TTL_S = 5.0


class TokenPrincipalCache:
    """Principals of recently seen bearer tokens, kept for ``ttl`` seconds.

    Machine clients (prison phone systems, gateways) send a token with every request; reading it
    from the database each time costs more than the work they ask for. Entries are keyed by the
    token's SHA-256 (the raw token is not kept) and only known, unrevoked tokens are cached, so an
    unknown token is always looked up and refused. A revoked token keeps working in this process
    for at most ``ttl`` seconds after its entry was cached.
    """

    def __init__(
        self,
        ttl: float = TOKEN_CACHE_TTL_S,
        max_entries: int = 10_000,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._now = now
        self._entries: dict[str, tuple[float, Principal]] = {}

    def principal(self, token: str, lookup: Callable[[], Principal | None]) -> Principal | None:
        """The cached principal for ``token``, else ``lookup()`` (remembered only when found)."""
        key = _sha256(token)
        found = self._entries.get(key)
        now = self._now()
        if found is not None and found[0] > now:
            return found[1]
        principal = lookup()
        if principal is None:
            self._entries.pop(key, None)
            return None
        if len(self._entries) >= self.max_entries:
            # Many distinct live tokens is unusual; start again rather than track recency.
            self._entries.clear()
        self._entries[key] = (now + self.ttl, principal)
        return principal

    def clear(self) -> None:
        self._entries.clear()


def revoke_token(uow: UnitOfWork, token_id: int, actor: str) -> None:
    uow.connection.execute(
        update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=uow.clock.now())
    )
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=actor,
        action="token.revoke",
        subject_type="api_token",
        subject_id=token_id,
    )
    uow.commit()
