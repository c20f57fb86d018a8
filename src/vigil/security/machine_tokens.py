"""Machine tokens (device gateways, prison systems): created for machine roles only, expiring,
rotated with an hour's overlap, revoked at once, cached for a few seconds per process."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.security import audit
from vigil.security.model import MACHINE_ROLES, Principal, Role
from vigil.security.service import _sha256
from vigil.security.tables import api_tokens

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
) -> str:
    """Create an API token; the plaintext is returned once and only its hash is kept. Every
    token expires. People's roles are refused: a token skips CSRF and acts without a person's
    sign-in (and its second factor), so it is for machines; people sign in."""
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError("role", f"unknown role {role!r}") from exc
    if role not in MACHINE_ROLES:
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
            api_tokens.c.expires_at > now,
        )
    ).first()
    if row is None:
        raise ValidationError("token_id", "no live token has this id")
    ends = now + ROTATION_OVERLAP
    if row.expires_at > ends:
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


@dataclass(frozen=True)
class TokenRecord:
    """A machine token as operators list it: never the token itself."""

    id: int
    name: str
    role: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def list_tokens(uow: UnitOfWork) -> list[TokenRecord]:
    rows = uow.connection.execute(select(api_tokens).order_by(api_tokens.c.id))
    return [
        TokenRecord(r.id, r.name, r.role, r.created_at, r.expires_at, r.revoked_at) for r in rows
    ]


def token_principal(uow: UnitOfWork, token: str) -> Principal | None:
    row = uow.connection.execute(
        select(api_tokens).where(
            api_tokens.c.token_hash == _sha256(token),
            api_tokens.c.revoked_at.is_(None),
            api_tokens.c.expires_at > uow.clock.now(),
        )
    ).first()
    if row is None or row.role not in MACHINE_ROLES:
        # A person's-role token from before they were refused no longer signs anyone in.
        return None
    return Principal(id=row.id, name=row.name, role=Role(row.role), is_machine=True)


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
