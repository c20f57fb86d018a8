"""Seeds the demo database: staff logins for every role and a believable Midlands pilot.

The pilot: probation teams in Birmingham, Coventry, Nottingham and Leicester, an officer login per
team and a police login per force, about forty wearers on domestic-abuse orders with curfews at
home (19:00–07:00), exclusion zones around their victims' homes, GPS tags, and for some victims a
phone that carries a proximity zone. A seeded random makes it the same every time.
"""

from __future__ import annotations

import random

from sqlalchemy import select

from vigil.contact import demo as contact_demo
from vigil.evidence import demo as evidence_demo
from vigil.harm import demo as harm_demo
from vigil.host import DemoHost
from vigil.links import demo as links_demo
from vigil.people import reference_data
from vigil.security import service as security_service
from vigil.security.model import Role
from vigil.security.tables import users
from vigil.sim import demo_postcodes
from vigil.sim.demo_teams import POLICE, TEAMS, DemoTeam
from vigil.sim.demo_wearers import seed_wearer

# Demo-only passwords, printed at start-up; never used outside `vigil demo`.
DEMO_PASSWORD = "vigil-demo-password"
DEMO_SEED = 20260323
WEARERS_PER_TEAM = 10

DemoLogin = tuple[str, str, str]

STAFF: tuple[tuple[str, str, Role], ...] = (
    ("operator", "Sam Okafor", Role.MONITORING_OPERATOR),
    ("admin", "Alex Reid", Role.ADMIN),
    ("auditor", "Jo Lindqvist", Role.AUDITOR),
    ("analyst", "Priya Shah", Role.ANALYST),
    ("casehandler", "Morgan Ellis", Role.UPCS_CASE_HANDLER),
)


def _add_staff(container: DemoHost, existing: set[str], logins: list[DemoLogin]) -> None:
    with container.uow() as uow:
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
        uow.commit()


def seed_demo(container: DemoHost) -> list[DemoLogin]:
    """Idempotent: a second run finds the data already there and only lists the logins."""
    logins: list[DemoLogin] = []
    with container.uow() as uow:
        existing = set(uow.connection.execute(select(users.c.username)).scalars())
    _add_staff(container, existing, logins)
    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
        seeded = reference_data.team_by_name(uow, TEAMS[0].name) is not None
        uow.commit()
    if not seeded:
        _seed_pilot(container, existing)
    # The other services' demo data; each seeding is idempotent on its own.
    contact_demo.seed(container)
    harm_demo.seed(container)
    evidence_demo.seed(container)
    demo_postcodes.seed(container)
    # After the services' data: links the wearers to the register and the matrix.
    links_demo.seed(container)
    for team in TEAMS:
        logins.append((team.login, DEMO_PASSWORD, Role.PROBATION_OFFICER.value))
    for username, _name, _force in POLICE:
        logins.append((username, DEMO_PASSWORD, Role.POLICE.value))
    return logins


def _seed_pilot(container: DemoHost, existing: set[str]) -> None:
    rng = random.Random(DEMO_SEED)
    now = container.clock.now()
    tz = container.settings.tz
    _add_police(container, existing)
    serial = 0
    for team in TEAMS:
        team_id, officer_id = _add_team(container, team, existing)
        for _ in range(WEARERS_PER_TEAM):
            serial += 1
            seed_wearer(container, rng, team, team_id, officer_id, serial, now, tz)


def _add_police(container: DemoHost, existing: set[str]) -> None:
    for username, name, force in POLICE:
        if username not in existing:
            with container.uow() as uow:
                security_service.add_user(
                    uow,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=Role.POLICE,
                    display_name=name,
                    force_area=force,
                    actor="demo",
                )
                uow.commit()


def _add_team(container: DemoHost, team: DemoTeam, existing: set[str]) -> tuple[int, int]:
    """The team, its officer's login (unless there already) and its officer; their ids."""
    with container.uow() as uow:
        team_id = reference_data.add_team(
            uow, name=team.name, region_code=team.region, force_area=team.force, actor="demo"
        )
        user_id = None
        if team.login not in existing:
            user_id = security_service.add_user(
                uow,
                username=team.login,
                password=DEMO_PASSWORD,
                role=Role.PROBATION_OFFICER,
                display_name=team.officer,
                team_id=team_id,
                actor="demo",
            )
        officer_id = reference_data.add_officer(
            uow,
            name=team.officer,
            team_id=team_id,
            user_id=user_id,
            email=f"{team.login}@probation.example.gov.uk",
            actor="demo",
        )
        uow.commit()
    return team_id, officer_id
