"""Navigation entries each part contributes to the staff header and the role home pages."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.security.model import Principal, Role


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[Role]
    description: str = ""

    def visible_to(self, principal: Principal | None) -> bool:
        return principal is not None and principal.role in self.roles
