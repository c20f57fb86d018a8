"""People use cases: reference data, teams and officers, persons in scope, protected persons."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, false, func, insert, select, true, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.people.model import (
    FORCE_AREAS,
    PROTECTED_DETAIL_ROLES,
    REGIONS,
    PersonDraft,
    ProtectedPersonDraft,
    RiskLevel,
    check_person,
    check_protected_person,
)
from vigil.people.tables import (
    force_areas,
    officers,
    persons,
    prisons,
    protected_persons,
    regions,
    teams,
)
from vigil.security import audit
from vigil.security.crypto import FieldCipher
from vigil.security.model import NATIONAL_ROLES, REGISTRY_ROLES, Principal, Role

# Roles that may register a person or change their record.
PERSON_WRITE_ROLES = (Role.ADMIN, Role.PROBATION_OFFICER, Role.MONITORING_OPERATOR)
PHONE_INDEX_PURPOSE = "protected_person.phone"


# --- reference data -------------------------------------------------------------------------


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
    uow.commit()


def list_regions(uow: UnitOfWork) -> list[dict[str, str]]:
    rows = uow.connection.execute(select(regions).order_by(regions.c.code))
    return [{"code": row.code, "name": row.name} for row in rows]


def list_force_areas(uow: UnitOfWork) -> list[dict[str, str]]:
    rows = uow.connection.execute(select(force_areas).order_by(force_areas.c.name))
    return [{"code": r.code, "name": r.name, "region_code": r.region_code} for r in rows]


# --- teams and officers ---------------------------------------------------------------------


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
    uow.commit()
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
    uow.commit()
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


# --- persons --------------------------------------------------------------------------------


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
    principal.require_role(*PERSON_WRITE_ROLES)
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
    uow.commit()
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
    uow.commit()


def get_person(uow: UnitOfWork, principal: Principal, person_id: int) -> PersonView:
    """The person if the principal's caseload includes them; otherwise NotFound (no leak)."""
    principal.require_role(*REGISTRY_ROLES)
    row = uow.connection.execute(_person_query().where(persons.c.id == person_id)).first()
    if row is None or not principal.can_see_person(row.managing_team_id, row.force_area):
        raise NotFound(f"person {person_id}")
    return _view(row)


def list_persons(uow: UnitOfWork, principal: Principal) -> list[PersonView]:
    principal.require_role(*REGISTRY_ROLES)
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


# --- protected persons ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProtectedPersonView:
    id: int
    person_id: int
    relationship: str
    # None when the viewer's role may not see details (``details_withheld`` says so).
    full_name: str | None
    address: str | None
    phone: str | None
    email: str | None
    details_withheld: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person_id": self.person_id,
            "relationship": self.relationship,
            "full_name": self.full_name,
            "address": self.address,
            "phone": self.phone,
            "email": self.email,
            "details_withheld": self.details_withheld,
        }


def _field(name: str) -> str:
    return f"protected_persons.{name}"


def add_protected_person(
    uow: UnitOfWork,
    principal: Principal,
    cipher: FieldCipher,
    person_id: int,
    draft: ProtectedPersonDraft,
) -> int:
    principal.require_role(*PERSON_WRITE_ROLES, Role.POLICE)
    get_person(uow, principal, person_id)
    errors = ErrorCollector()
    check_protected_person(draft, errors)
    errors.raise_if_any()
    now = uow.clock.now()
    protected_id = uow.connection.execute(
        insert(protected_persons)
        .values(
            person_id=person_id,
            relationship=str(draft.relationship),
            full_name_enc=cipher.encrypt(draft.full_name, _field("full_name")),
            address_enc=cipher.encrypt_optional(draft.address, _field("address")),
            phone_enc=cipher.encrypt_optional(draft.phone, _field("phone")),
            email_enc=cipher.encrypt_optional(draft.email, _field("email")),
            phone_index=cipher.blind_index(draft.phone, PHONE_INDEX_PURPOSE)
            if draft.phone
            else None,
            created_at=now,
        )
        .returning(protected_persons.c.id)
    ).scalar_one()
    # Name what was recorded, never its value.
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="protected_person.create",
        subject_type="protected_person",
        subject_id=protected_id,
        detail={
            "person_id": person_id,
            "fields": [f for f in ("address", "phone", "email") if getattr(draft, f)],
        },
    )
    uow.commit()
    return int(protected_id)


def _protected_view(row: Any, cipher: FieldCipher, reveal: bool) -> ProtectedPersonView:
    if not reveal:
        return ProtectedPersonView(
            row.id, row.person_id, row.relationship, None, None, None, None, True
        )
    return ProtectedPersonView(
        id=row.id,
        person_id=row.person_id,
        relationship=row.relationship,
        full_name=cipher.decrypt(row.full_name_enc, _field("full_name")),
        address=cipher.decrypt_optional(row.address_enc, _field("address")),
        phone=cipher.decrypt_optional(row.phone_enc, _field("phone")),
        email=cipher.decrypt_optional(row.email_enc, _field("email")),
        details_withheld=False,
    )


def _audit_view(uow: UnitOfWork, principal: Principal, row: Any, reveal: bool) -> None:
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="protected_person.view" if reveal else "protected_person.view_withheld",
        subject_type="protected_person",
        subject_id=row.id,
        detail={
            "person_id": row.person_id,
            "fields": list(("full_name", "address", "phone", "email")) if reveal else [],
        },
    )


def list_protected_persons(
    uow: UnitOfWork, principal: Principal, cipher: FieldCipher, person_id: int
) -> list[ProtectedPersonView]:
    """Protected persons of one person in scope; every view (revealed or not) is audited."""
    get_person(uow, principal, person_id)
    reveal = principal.role in PROTECTED_DETAIL_ROLES
    rows = uow.connection.execute(
        select(protected_persons)
        .where(protected_persons.c.person_id == person_id)
        .order_by(protected_persons.c.id)
    ).all()
    views = []
    for row in rows:
        _audit_view(uow, principal, row, reveal)
        views.append(_protected_view(row, cipher, reveal))
    uow.commit()
    return views


def get_protected_person(
    uow: UnitOfWork, principal: Principal, cipher: FieldCipher, protected_id: int
) -> ProtectedPersonView:
    row = uow.connection.execute(
        select(protected_persons).where(protected_persons.c.id == protected_id)
    ).first()
    if row is None:
        raise NotFound(f"protected person {protected_id}")
    get_person(uow, principal, row.person_id)
    reveal = principal.role in PROTECTED_DETAIL_ROLES
    _audit_view(uow, principal, row, reveal)
    uow.commit()
    return _protected_view(row, cipher, reveal)


def protected_person_refs(uow: UnitOfWork, person_id: int) -> list[tuple[int, str]]:
    """(id, relationship) of a person's protected persons, for other parts; no details."""
    rows = uow.connection.execute(
        select(protected_persons.c.id, protected_persons.c.relationship)
        .where(protected_persons.c.person_id == person_id)
        .order_by(protected_persons.c.id)
    )
    return [(row.id, row.relationship) for row in rows]


def protected_person_owner(uow: UnitOfWork, protected_id: int) -> int | None:
    """The person a protected person is protected from (no details are read)."""
    found = uow.connection.execute(
        select(protected_persons.c.person_id).where(protected_persons.c.id == protected_id)
    ).scalar()
    return None if found is None else int(found)


# --- prisons --------------------------------------------------------------------------------

_PRISON_WORDS = {"HMP", "YOI", "HMYOI", "HMP/YOI", "HM", "PRISON", "AND", "&", "HMPYOI", "IRC"}


@dataclass(frozen=True)
class PrisonLoadReport:
    prisons: int
    with_address: int
    addresses: int


def _key(name: str) -> str:
    words = [w for w in name.upper().replace("/", " / ").split() if w not in _PRISON_WORDS]
    return " ".join(w for w in words if w != "/")


def _match_addresses(
    prison_rows: list[dict[str, str]], address_rows: list[dict[str, str]]
) -> dict[str, dict[str, str]]:
    """Pair prisons with addresses by the distinctive part of the name.

    The two files share no key. A prison's name ("HMP Birmingham") is looked for in the address's
    own name first ("HM PRISON ALTCOURSE"), then its town, then its street or county; a prison is
    given an address only when exactly one address matches at the best level, and each address
    goes to one prison.
    """
    scored: list[tuple[int, str, int]] = []
    for prison in prison_rows:
        key = _key(prison["name"])
        if not key:
            continue
        for index, address in enumerate(address_rows):
            fields = [
                (3, address["address:name"]),
                (2, address["town"]),
                (2, address["administrative-area"]),
                (1, address["street:name"]),
            ]
            score = max(
                (weight for weight, value in fields if f" {key} " in f" {value.upper()} "),
                default=0,
            )
            if score:
                scored.append((score, prison["prison-estate"], index))
    best: dict[str, list[tuple[int, int]]] = {}
    for score, code, index in scored:
        best.setdefault(code, []).append((score, index))
    matched: dict[str, dict[str, str]] = {}
    used: set[int] = set()
    for score, code, index in sorted(scored, reverse=True):
        if code in matched or index in used:
            continue
        top = max(s for s, _ in best[code])
        if score < top or sum(1 for s, _ in best[code] if s == top) != 1:
            continue
        matched[code] = address_rows[index]
        used.add(index)
    return matched


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            {k: (v or "").strip() for k, v in row.items()}
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def _parse_date(value: str) -> date | None:
    """Register dates are ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; a missing part is the first."""
    if not value:
        return None
    parts = [int(part) for part in value.split("-")]
    return date(parts[0], *([*parts[1:], 1, 1])[:2])


# The prison estate register (symroe/prison-estate-data, OGL v3) ships with the package, so the demo
# and a fresh install have the real estate without a download.
BUNDLED_PRISON_REGISTER = Path(__file__).resolve().parent / "data"


def load_prisons(uow: UnitOfWork, directory: Path, actor: str) -> PrisonLoadReport:
    """Load ``prison.tsv`` and ``prison-address.tsv`` from a directory; upsert by prison code.

    In ``prison-address.tsv`` the ``long`` and ``lat`` headers are swapped: the column headed
    ``long`` holds the latitude. Each pair is checked against Great Britain's extent so a file
    with the headers put right is read correctly too.
    """
    prison_file = directory / "prison.tsv"
    address_file = directory / "prison-address.tsv"
    for path, name in ((prison_file, "prison.tsv"), (address_file, "prison-address.tsv")):
        if not path.is_file():
            raise ValidationError("path", f"{name} not found in {directory}")
    prison_rows = _read_tsv(prison_file)
    address_rows = _read_tsv(address_file)
    for row in prison_rows:
        if not row.get("prison-estate") or not row.get("name"):
            raise ValidationError("prison.tsv", "every row needs prison-estate and name")
    # A code can appear twice when a prison was re-roled (HMP to IRC Morton Hall); the later row
    # is the current one.
    prison_rows = list({row["prison-estate"]: row for row in prison_rows}.values())
    matched = _match_addresses(prison_rows, address_rows)
    conn = uow.connection
    existing = set(conn.execute(select(prisons.c.code)).scalars())
    for row in prison_rows:
        code = row["prison-estate"]
        address = matched.get(code)
        lat = lon = None
        if address:
            first, second = float(address["long"]), float(address["lat"])
            lat, lon = (first, second) if 49 <= first <= 61 else (second, first)
        values: dict[str, Any] = {
            "name": row["name"],
            "opened_on": _parse_date(row.get("start-date", "")),
            "closed_on": _parse_date(row.get("end-date", "")),
            "address": ", ".join(
                filter(None, [address["address:name"], address["street:name"]])
            ).title()
            if address
            else None,
            "town": address["town"].title() if address else None,
            "postcode": address["postcode"] if address else None,
            "lat": lat,
            "lon": lon,
        }
        if code in existing:
            conn.execute(update(prisons).where(prisons.c.code == code).values(**values))
        else:
            conn.execute(insert(prisons).values(code=code, **values))
    report = PrisonLoadReport(len(prison_rows), len(matched), len(address_rows))
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=actor,
        action="prisons.load",
        subject_type="prison",
        detail={"prisons": report.prisons, "with_address": report.with_address},
    )
    uow.commit()
    return report


def list_prisons(uow: UnitOfWork) -> list[dict[str, Any]]:
    rows = uow.connection.execute(select(prisons).order_by(prisons.c.name))
    return [
        {
            "code": r.code,
            "name": r.name,
            "closed_on": r.closed_on.isoformat() if r.closed_on else None,
            "town": r.town,
            "postcode": r.postcode,
            "lat": r.lat,
            "lon": r.lon,
        }
        for r in rows
    ]


def person_scope(uow: UnitOfWork, person_id: str | int) -> tuple[int | None, str | None] | None:

    try:
        key = int(person_id)
    except (TypeError, ValueError):
        return None
    view = persons_by_ids(uow, [key]).get(key)
    return None if view is None else (view.managing_team_id, view.force_area)
