"""Reference data: regions, force areas, probation teams and their officers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector
from vigil.people.model import (
    FORCE_AREAS,
    REGIONS,
    ForceArea,
    Region,
)
from vigil.people.tables import (
    force_areas,
    officers,
    regions,
    teams,
)
from vigil.security import audit


def ensure_reference_data(uow: UnitOfWork) -> None:
    """Insert the probation regions and police force areas that are not there yet."""
    conn = uow.connection
    have_regions = set(conn.execute(select(regions.c.code)).scalars())
    for region in REGIONS:
        if region.code not in have_regions:
            conn.execute(insert(regions).values(code=region.code, name=region.name))
    have_forces = set(conn.execute(select(force_areas.c.code)).scalars())
    for force in FORCE_AREAS:
        if force.code not in have_forces:
            conn.execute(
                insert(force_areas).values(
                    code=force.code, name=force.name, region_code=force.region_code
                )
            )


def list_regions(uow: UnitOfWork) -> list[Region]:
    rows = uow.connection.execute(select(regions).order_by(regions.c.code))
    return [Region(row.code, row.name) for row in rows]


def list_force_areas(uow: UnitOfWork) -> list[ForceArea]:
    rows = uow.connection.execute(select(force_areas).order_by(force_areas.c.name))
    return [ForceArea(r.code, r.name, r.region_code) for r in rows]


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    region_code: str
    force_area: str


def add_team(uow: UnitOfWork, *, name: str, region_code: str, force_area: str, actor: str) -> int:
    conn = uow.connection
    errors = ErrorCollector()
    name = name.strip()
    errors.check(0 < len(name) <= 120, "name", "must be 1 to 120 characters")
    if conn.execute(select(teams.c.id).where(teams.c.name == name)).first():
        errors.add("name", f"a team called {name!r} already exists")
    if not conn.execute(select(regions.c.code).where(regions.c.code == region_code)).first():
        errors.add("region_code", f"unknown region {region_code!r}")
    force = conn.execute(select(force_areas).where(force_areas.c.code == force_area)).first()
    if force is None:
        errors.add("force_area", f"unknown force area {force_area!r}")
    errors.raise_if_any()
    team_id = conn.execute(
        insert(teams)
        .values(
            name=name, region_code=region_code, force_area=force_area, created_at=uow.clock.now()
        )
        .returning(teams.c.id)
    ).scalar_one()
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=actor,
        action="team.create",
        subject_type="team",
        subject_id=team_id,
        detail={"name": name, "region_code": region_code},
    )
    return int(team_id)


def list_teams(uow: UnitOfWork) -> list[Team]:
    rows = uow.connection.execute(select(teams).order_by(teams.c.name))
    return [Team(r.id, r.name, r.region_code, r.force_area) for r in rows]


def team_by_name(uow: UnitOfWork, name: str) -> Team | None:
    row = uow.connection.execute(select(teams).where(teams.c.name == name)).first()
    return None if row is None else Team(row.id, row.name, row.region_code, row.force_area)


@dataclass(frozen=True)
class Officer:
    id: int
    name: str
    email: str | None
    team_id: int
    user_id: int | None


def add_officer(
    uow: UnitOfWork,
    *,
    name: str,
    team_id: int,
    actor: str,
    email: str | None = None,
    user_id: int | None = None,
) -> int:
    conn = uow.connection
    errors = ErrorCollector()
    name = name.strip()
    errors.check(0 < len(name) <= 200, "name", "must be 1 to 200 characters")
    if not conn.execute(select(teams.c.id).where(teams.c.id == team_id)).first():
        errors.add("team_id", f"unknown team {team_id}")
    errors.raise_if_any()
    officer_id = conn.execute(
        insert(officers)
        .values(
            name=name, email=email, team_id=team_id, user_id=user_id, created_at=uow.clock.now()
        )
        .returning(officers.c.id)
    ).scalar_one()
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=actor,
        action="officer.create",
        subject_type="officer",
        subject_id=officer_id,
        detail={"team_id": team_id},
    )
    return int(officer_id)


def list_officers(uow: UnitOfWork, team_id: int | None = None) -> list[Officer]:
    query = select(officers).order_by(officers.c.name)
    if team_id is not None:
        query = query.where(officers.c.team_id == team_id)
    return [
        Officer(r.id, r.name, r.email, r.team_id, r.user_id) for r in uow.connection.execute(query)
    ]


def get_officer(uow: UnitOfWork, officer_id: int) -> Officer | None:
    r = uow.connection.execute(select(officers).where(officers.c.id == officer_id)).first()
    return None if r is None else Officer(r.id, r.name, r.email, r.team_id, r.user_id)


def officer_for_user(uow: UnitOfWork, user_id: int) -> Officer | None:
    r = uow.connection.execute(select(officers).where(officers.c.user_id == user_id)).first()
    return None if r is None else Officer(r.id, r.name, r.email, r.team_id, r.user_id)
