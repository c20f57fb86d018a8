"""People use cases: reference data, teams and officers, persons in scope, protected persons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, false, func, insert, select, true, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound
from vigil.people.model import (
    PersonDraft,
    RiskLevel,
    check_person,
)
from vigil.people.tables import (
    force_areas,
    persons,
    prisons,
    teams,
)
from vigil.security import audit, permissions
from vigil.security.model import NATIONAL_ROLES, Principal, Role


@dataclass(frozen=True)
class PersonView:
    id: int
    first_name: str
    last_name: str
    date_of_birth: date
    pnc_id: str | None
    prison_number: str | None
    crn: str | None
    aliases: list[str]
    managing_team_id: int | None
    team_name: str | None
    force_area: str | None
    region_code: str | None
    risk_level: RiskLevel
    home_address: str | None
    prison_code: str | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "pnc_id": self.pnc_id,
            "prison_number": self.prison_number,
            "crn": self.crn,
            "aliases": self.aliases,
            "managing_team_id": self.managing_team_id,
            "team_name": self.team_name,
            "force_area": self.force_area,
            "region_code": self.region_code,
            "risk_level": self.risk_level.value,
            "home_address": self.home_address,
            "prison_code": self.prison_code,
        }


def _person_query() -> Any:
    force_of_team = force_areas.alias("team_force")
    return (
        select(
            persons,
            teams.c.name.label("team_name"),
            func.coalesce(teams.c.region_code, force_of_team.c.region_code).label("region_code"),
        )
        .select_from(persons)
        .outerjoin(teams, teams.c.id == persons.c.managing_team_id)
        .outerjoin(force_of_team, force_of_team.c.code == persons.c.force_area)
    )


def _view(row: Any) -> PersonView:
    return PersonView(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        date_of_birth=row.date_of_birth,
        pnc_id=row.pnc_id,
        prison_number=row.prison_number,
        crn=row.crn,
        aliases=list(row.aliases or []),
        managing_team_id=row.managing_team_id,
        team_name=row.team_name,
        force_area=row.force_area,
        region_code=row.region_code,
        risk_level=RiskLevel(row.risk_level),
        home_address=row.home_address,
        prison_code=row.prison_code,
    )


def scope_clause(principal: Principal) -> ColumnElement[bool]:
    """The SQL form of ``Principal.can_see_person`` over the persons table."""
    if principal.role in NATIONAL_ROLES:
        return true()
    if principal.role is Role.PROBATION_OFFICER and principal.team_id is not None:
        return persons.c.managing_team_id == principal.team_id
    if principal.role is Role.POLICE and principal.force_area:
        return persons.c.force_area == principal.force_area
    return false()


def _check_references(uow: UnitOfWork, draft: PersonDraft, errors: ErrorCollector) -> None:
    conn = uow.connection
    if (
        draft.managing_team_id is not None
        and not conn.execute(select(teams.c.id).where(teams.c.id == draft.managing_team_id)).first()
    ):
        errors.add("managing_team_id", f"unknown team {draft.managing_team_id}")
    if (
        draft.force_area
        and not conn.execute(
            select(force_areas.c.code).where(force_areas.c.code == draft.force_area)
        ).first()
    ):
        errors.add("force_area", f"unknown force area {draft.force_area!r}")
    if (
        draft.prison_code
        and not conn.execute(
            select(prisons.c.code).where(prisons.c.code == draft.prison_code)
        ).first()
    ):
        errors.add("prison_code", f"unknown prison {draft.prison_code!r}")


def _check_unique_ids(
    uow: UnitOfWork, draft: PersonDraft, errors: ErrorCollector, exclude_id: int | None
) -> None:
    for name in ("pnc_id", "prison_number", "crn"):
        value = getattr(draft, name)
        if not value:
            continue
        query = select(persons.c.id).where(persons.c[name] == value)
        if exclude_id is not None:
            query = query.where(persons.c.id != exclude_id)
        if uow.connection.execute(query).first():
            # Not "belongs to another person": the caller may not see that person (another
            # team's or force's), and the answer must not tell them the identifier exists.
            errors.add(name, "cannot be used; check it, or ask the monitoring centre")


def _validate(
    uow: UnitOfWork, principal: Principal, draft: PersonDraft, exclude_id: int | None
) -> None:
    principal.require(permissions.PERSONS_WRITE)
    errors = ErrorCollector()
    check_person(draft, uow.clock.now().date(), errors)
    _check_references(uow, draft, errors)
    _check_unique_ids(uow, draft, errors, exclude_id)
    if principal.role is Role.PROBATION_OFFICER and draft.managing_team_id != principal.team_id:
        errors.add("managing_team_id", "a probation officer can only register for their own team")
    errors.raise_if_any()


def _values(draft: PersonDraft) -> dict[str, Any]:
    return {
        "first_name": draft.first_name,
        "last_name": draft.last_name,
        "date_of_birth": draft.date_of_birth,
        "pnc_id": draft.pnc_id,
        "prison_number": draft.prison_number,
        "crn": draft.crn,
        "aliases": draft.aliases,
        "managing_team_id": draft.managing_team_id,
        "force_area": draft.force_area,
        "risk_level": RiskLevel(draft.risk_level).value,
        "home_address": draft.home_address,
        "prison_code": draft.prison_code,
    }


def create_person(uow: UnitOfWork, principal: Principal, draft: PersonDraft) -> int:
    _validate(uow, principal, draft, None)
    now = uow.clock.now()
    person_id = uow.connection.execute(
        insert(persons)
        .values(**_values(draft), created_at=now, updated_at=now)
        .returning(persons.c.id)
    ).scalar_one()
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="person.create",
        subject_type="person",
        subject_id=person_id,
        detail={"crn": draft.crn, "managing_team_id": draft.managing_team_id},
    )
    return int(person_id)


def update_person(
    uow: UnitOfWork, principal: Principal, person_id: int, draft: PersonDraft
) -> None:
    before = get_person(uow, principal, person_id)
    _validate(uow, principal, draft, person_id)
    values = _values(draft)
    changed = sorted(k for k, v in values.items() if v != before.as_dict().get(k))
    uow.connection.execute(
        update(persons)
        .where(persons.c.id == person_id)
        .values(**values, updated_at=uow.clock.now())
    )
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="person.update",
        subject_type="person",
        subject_id=person_id,
        detail={"changed": changed},
    )


def get_person(uow: UnitOfWork, principal: Principal, person_id: int) -> PersonView:
    """The person if the principal's caseload includes them; otherwise NotFound (no leak)."""
    principal.require(permissions.PERSONS_READ)
    row = uow.connection.execute(_person_query().where(persons.c.id == person_id)).first()
    if row is None or not principal.can_see_person(row.managing_team_id, row.force_area):
        raise NotFound(f"person {person_id}")
    return _view(row)


def list_persons(uow: UnitOfWork, principal: Principal) -> list[PersonView]:
    principal.require(permissions.PERSONS_READ)
    query = _person_query().where(scope_clause(principal))
    rows = uow.connection.execute(query.order_by(persons.c.last_name, persons.c.first_name))
    return [_view(row) for row in rows]


def persons_by_ids(uow: UnitOfWork, person_ids: list[int]) -> dict[int, PersonView]:
    """Unscoped lookup for other parts' services (the monitoring plan, eligibility)."""
    if not person_ids:
        return {}
    rows = uow.connection.execute(_person_query().where(persons.c.id.in_(person_ids)))
    return {row.id: _view(row) for row in rows}


def visible_person(uow: UnitOfWork, principal: Principal, person_id: int) -> PersonView:
    """Alias kept for other parts: raise NotFound unless the person is in the caseload."""
    return get_person(uow, principal, person_id)


def count_persons_in_region(uow: UnitOfWork, region_code: str, person_ids: list[int]) -> int:
    found = persons_by_ids(uow, person_ids)
    return sum(1 for view in found.values() if view.region_code == region_code)


def person_scope(uow: UnitOfWork, person_id: str | int) -> tuple[int | None, str | None] | None:

    try:
        key = int(person_id)
    except (TypeError, ValueError):
        return None
    view = persons_by_ids(uow, [key]).get(key)
    return None if view is None else (view.managing_team_id, view.force_area)
