"""Roles and principals: who is asking, and what they may see. No framework imports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    MONITORING_OPERATOR = "monitoring_operator"
    PROBATION_OFFICER = "probation_officer"
    POLICE = "police"
    UPCS_CASE_HANDLER = "upcs_case_handler"
    ANALYST = "analyst"
    ADMIN = "admin"
    AUDITOR = "auditor"
    DEVICE_GATEWAY = "device_gateway"
    PRISON_SYSTEM = "prison_system"


HUMAN_ROLES = frozenset(
    {
        Role.MONITORING_OPERATOR,
        Role.PROBATION_OFFICER,
        Role.POLICE,
        Role.UPCS_CASE_HANDLER,
        Role.ANALYST,
        Role.ADMIN,
        Role.AUDITOR,
    }
)
MACHINE_ROLES = frozenset({Role.DEVICE_GATEWAY, Role.PRISON_SYSTEM})
# Roles whose caseload is everything; the others are scoped (or see no persons at all).
NATIONAL_ROLES = frozenset({Role.MONITORING_OPERATOR, Role.ADMIN})
# Roles that see victims' details or trails: in production they must sign in with a second factor.
SECOND_FACTOR_ROLES = frozenset(
    {Role.MONITORING_OPERATOR, Role.PROBATION_OFFICER, Role.POLICE, Role.ADMIN}
)

ROLE_LABELS: dict[Role, str] = {
    Role.MONITORING_OPERATOR: "Monitoring centre operator",
    Role.PROBATION_OFFICER: "Probation officer",
    Role.POLICE: "Police",
    Role.UPCS_CASE_HANDLER: "Contact service case handler",
    Role.ANALYST: "Police analyst",
    Role.ADMIN: "Administrator",
    Role.AUDITOR: "Auditor",
    Role.DEVICE_GATEWAY: "Device gateway (machine)",
    Role.PRISON_SYSTEM: "Prison phone and mail system (machine)",
}


@dataclass(frozen=True)
class Permission:
    """A use case and the roles that may attempt it; declared once in ``security.permissions``."""

    name: str
    roles: frozenset[Role]
    anonymous: bool = False
    """True for the public doors (the contact form, sign-in): no principal is needed."""

    def allows(self, role: Role | None) -> bool:
        if role is None:
            return self.anonymous
        return role in self.roles


class PermissionDenied(Exception):
    """The principal's role may not do this at all (HTTP 403)."""


class OutOfScope(Exception):
    """The thing exists but is outside the principal's caseload; reported as not found (404)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated user or machine token."""

    id: int
    name: str
    role: Role
    team_id: int | None = None
    force_area: str | None = None
    is_machine: bool = False
    second_factor: bool = False
    """The user signs in with a second factor (TOTP)."""

    @property
    def actor(self) -> str:
        kind = "token" if self.is_machine else "user"
        return f"{kind}:{self.id}:{self.name}"

    def require(self, permission: Permission) -> None:
        """Every use case starts here: the service declares what it needs, not the entrypoint."""
        if not permission.allows(self.role):
            raise PermissionDenied(f"role {self.role} may not do this ({permission.name})")

    def may(self, permission: Permission) -> bool:
        """Whether to offer the use case at all (a button, a link, an unmasked field)."""
        return permission.allows(self.role)

    def can_see_person(self, managing_team_id: int | None, force_area: str | None) -> bool:
        """Caseload scope: officers see their team's persons, police their force area."""
        if self.role in NATIONAL_ROLES:
            return True
        if self.role is Role.PROBATION_OFFICER:
            return self.team_id is not None and self.team_id == managing_team_id
        if self.role is Role.POLICE:
            return self.force_area is not None and self.force_area == force_area
        return False


SYSTEM = Principal(id=0, name="system", role=Role.ADMIN, is_machine=True)
