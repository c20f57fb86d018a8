"""Seeds the demo database: staff logins for every role (and, as parts land, a believable pilot)."""

from __future__ import annotations

from sqlalchemy import select

from vigil.bootstrap import Container
from vigil.security import service as security_service
from vigil.security.model import Role
from vigil.security.tables import users

# Demo-only passwords, printed at start-up; never used outside `vigil demo`.
DEMO_PASSWORD = "vigil-demo-password"

DemoLogin = tuple[str, str, str]

STAFF: tuple[tuple[str, str, Role], ...] = (
    ("operator", "Sam Okafor", Role.MONITORING_OPERATOR),
    ("admin", "Alex Reid", Role.ADMIN),
    ("auditor", "Jo Lindqvist", Role.AUDITOR),
    ("analyst", "Priya Shah", Role.ANALYST),
    ("casehandler", "Morgan Ellis", Role.UPCS_CASE_HANDLER),
)


def seed_demo(container: Container) -> list[DemoLogin]:
    """Idempotent: a second run finds the data already there and only lists the logins."""
    logins: list[DemoLogin] = []
    with container.uow() as uow:
        existing = set(uow.connection.execute(select(users.c.username)).scalars())
        for username, display_name, role in STAFF:
            if username not in existing:
                security_service.add_user(
                    uow,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    display_name=display_name,
                    actor="demo",
                )
            logins.append((username, DEMO_PASSWORD, role.value))
    return logins
