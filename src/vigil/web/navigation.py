"""Navigation entries each part contributes to the staff header and the role home pages."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.security.model import Permission, Principal


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    permission: Permission
    """The use case the link leads to: shown only to roles that may attempt it."""
    description: str = ""

    def visible_to(self, principal: Principal | None) -> bool:
        return principal is not None and principal.may(self.permission)
