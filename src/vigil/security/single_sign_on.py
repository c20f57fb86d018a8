"""Signing in through an organisation's identity provider (OpenID Connect).

Forces and probation run their own identity providers: a leaver is removed there, once. So the
provider's groups, not Vigil, say what a person may do. ``VIGIL_OIDC_GROUP_ROLES`` maps groups to
a role and its scope (``wmp-dv-unit=police:WMP``, ``leeds-probation=probation_officer:3``);
each sign-in reads the groups afresh, so a change at the provider takes effect at the next
sign-in. A person in no mapped group, or in groups that map to different roles, is refused:
guessing which role was meant would be guessing who may see a victim's address.

The first sign-in creates the Vigil user (named ``sso-…`` so it never takes over a local
account's name, and with no usable password). In production a role that sees victims' details
or trails must have proved a second factor at the provider (the ID token's ``amr``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.people.model import FORCE_AREAS
from vigil.security import audit
from vigil.security.model import SECOND_FACTOR_ROLES, Role
from vigil.security.oidc import OidcClient, ProviderIdentity
from vigil.security.service import _human_role
from vigil.security.sign_in import NewSession, _open_session
from vigil.security.tables import users
from vigil.settings import Settings

# Never a valid argon2 hash: a password sign-in for this user always fails.
SIGN_ON_ONLY_HASH = "!single-sign-on"
KNOWN_FORCE_AREAS = frozenset(force.code for force in FORCE_AREAS)
_USERNAME_UNSAFE = re.compile(r"[^a-z0-9._@-]+")


@dataclass(frozen=True)
class GroupRole:
    group: str
    role: Role
    team_id: int | None = None
    force_area: str | None = None


@dataclass(frozen=True)
class IdentityProvider:
    """The configured provider: how to talk to it, what its groups mean, what to call it."""

    client: OidcClient
    mapping: list[GroupRole]
    name: str


def configured_provider(settings: Settings) -> IdentityProvider | None:
    """The provider the settings name, or None when single sign-on is off. A mapping that
    cannot be read stops the start-up rather than letting people in on a guess."""
    if not settings.oidc_issuer:
        return None
    mapping = parse_group_roles(settings.oidc_group_roles)
    if not mapping:
        raise ValueError("VIGIL_OIDC_GROUP_ROLES: single sign-on needs at least one group=role")
    return IdentityProvider(OidcClient(settings), mapping, settings.oidc_provider_name)


class SingleSignOnRefused(Exception):
    """The provider vouched for the person, but Vigil will not let them in; ``reason`` says why
    in words for the sign-in page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_group_roles(text: str) -> list[GroupRole]:
    """``group=role[:scope]`` entries separated by commas; a wrong entry stops the start-up."""
    mapping = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        group, _, target = entry.partition("=")
        role_name, _, scope = target.partition(":")
        if not group.strip() or not role_name.strip():
            raise ValidationError("VIGIL_OIDC_GROUP_ROLES", f"{entry!r} is not group=role[:scope]")
        team_id = int(scope) if scope.isascii() and scope.isdigit() else None
        force_area = scope.strip().upper() or None
        if role_name.strip() == Role.POLICE and force_area not in KNOWN_FORCE_AREAS:
            raise ValidationError(
                "VIGIL_OIDC_GROUP_ROLES", f"{entry!r}: {scope!r} is not one of Vigil's force areas"
            )
        try:
            role = _human_role(role_name.strip(), team_id, force_area)
        except ValidationError as exc:
            reason = "; ".join(e.reason for e in exc.errors)
            raise ValidationError("VIGIL_OIDC_GROUP_ROLES", f"{entry!r}: {reason}") from exc
        mapping.append(
            GroupRole(
                group.strip(),
                role,
                team_id if role is Role.PROBATION_OFFICER else None,
                force_area if role is Role.POLICE else None,
            )
        )
    return mapping


def role_for(identity: ProviderIdentity, mapping: list[GroupRole]) -> GroupRole:
    matches = {(m.role, m.team_id, m.force_area): m for m in mapping if m.group in identity.groups}
    if not matches:
        raise SingleSignOnRefused(
            "Your account is not in a group that may use Vigil. Ask your administrator."
        )
    if len(matches) > 1:
        raise SingleSignOnRefused(
            "Your account is in groups for more than one Vigil role. Ask your administrator"
            " to leave you in one."
        )
    return next(iter(matches.values()))


def _subject_key(identity: ProviderIdentity) -> str:
    return f"{identity.issuer}|{identity.subject}"


def _free_username(uow: UnitOfWork, identity: ProviderIdentity) -> str:
    wanted = identity.preferred_username or identity.email or identity.subject
    base = "sso-" + (_USERNAME_UNSAFE.sub("-", wanted.casefold()).strip("-") or "user")[:60]
    candidate, n = base, 1
    while uow.connection.execute(select(users.c.id).where(users.c.username == candidate)).first():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _upsert_user(uow: UnitOfWork, identity: ProviderIdentity, granted: GroupRole) -> Any:
    conn = uow.connection
    key = _subject_key(identity)
    values = {
        "display_name": (identity.name or identity.preferred_username or identity.subject)[:200],
        "email": identity.email[:320] or None,
        "role": granted.role.value,
        "team_id": granted.team_id,
        "force_area": granted.force_area,
    }
    row = conn.execute(select(users).where(users.c.sso_subject == key)).first()
    if row is None:
        conn.execute(
            insert(users).values(
                username=_free_username(uow, identity),
                password_hash=SIGN_ON_ONLY_HASH,
                sso_subject=key,
                active=True,
                created_at=uow.clock.now(),
                **values,
            )
        )
    else:
        conn.execute(update(users).where(users.c.id == row.id).values(**values))
    return conn.execute(select(users).where(users.c.sso_subject == key)).one()


def _refuse(uow: UnitOfWork, identity: ProviderIdentity, reason: str, client: str) -> None:
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor="anonymous",
        action="login.failure",
        subject_type="user",
        subject_id=None,
        detail={"client": client, "step": "single_sign_on", "refused": reason},
    )


def sign_in_with_provider(
    uow: UnitOfWork,
    identity: ProviderIdentity,
    mapping: list[GroupRole],
    *,
    second_factor_required: bool,
    client: str,
) -> NewSession:
    """Open a session for the person the provider vouched for, or refuse with a reason."""
    try:
        granted = role_for(identity, mapping)
        if (
            second_factor_required
            and granted.role in SECOND_FACTOR_ROLES
            and not identity.multi_factor
        ):
            raise SingleSignOnRefused(
                "Your organisation's sign-in did not confirm a second factor, which this role"
                " needs. Sign in there with your security key or app, then try again."
            )
    except SingleSignOnRefused as refused:
        _refuse(uow, identity, refused.reason, client)
        raise
    row = _upsert_user(uow, identity, granted)
    if not row.active:
        _refuse(uow, identity, "deactivated in Vigil", client)
        raise SingleSignOnRefused("Your Vigil account has been closed. Ask your administrator.")
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=f"user:{row.id}:{row.username}",
        action="login.success",
        subject_type="user",
        subject_id=row.id,
        detail={
            "client": client,
            "step": "single_sign_on",
            "role": granted.role.value,
            "multi_factor": identity.multi_factor,
        },
    )
    return _open_session(uow, row)
