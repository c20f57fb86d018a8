"""Security use cases: users, logins and sessions, machine tokens."""

from __future__ import annotations

import hashlib

from sqlalchemy import insert, select

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.security import audit
from vigil.security.model import HUMAN_ROLES, Principal, Role
from vigil.security.passwords import hash_password
from vigil.security.tables import users


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
    role = _human_role(role, team_id, force_area)
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
    return int(user_id)


def _human_role(role: Role | str, team_id: int | None, force_area: str | None) -> Role:
    """A person's role, with the team or force area that role's scope needs."""
    try:
        checked = Role(role)
    except ValueError as exc:
        raise ValidationError("role", f"unknown role {role!r}") from exc
    if checked not in HUMAN_ROLES:
        raise ValidationError("role", f"{checked} is a machine role; use a token instead")
    if checked is Role.PROBATION_OFFICER and team_id is None:
        raise ValidationError("team_id", "a probation officer must belong to a team")
    if checked is Role.POLICE and not force_area:
        raise ValidationError("force_area", "a police user must have a force area")
    return checked


def _principal_from_user(row: object) -> Principal:
    return Principal(
        id=row.id,  # type: ignore[attr-defined]
        name=row.username,  # type: ignore[attr-defined]
        role=Role(row.role),  # type: ignore[attr-defined]
        team_id=row.team_id,  # type: ignore[attr-defined]
        force_area=row.force_area,  # type: ignore[attr-defined]
        # A single sign-on user's sessions are opened only after the provider's check, which
        # in production includes a second factor for the roles that need one.
        second_factor=bool(row.totp_enabled) or row.sso_subject is not None,  # type: ignore[attr-defined]
    )
