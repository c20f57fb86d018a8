"""Finding a person in one's caseload the way staff know them: by name, CRN, PNC id or prison
number, never by the registry's row id."""

from __future__ import annotations

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.people.service import PersonView, list_persons
from vigil.security.model import Principal

MAX_QUERY = 100


def _identifiers(person: PersonView) -> set[str]:
    ids = (person.crn, person.pnc_id, person.prison_number)
    return {value.casefold() for value in ids if value}


def _names(person: PersonView) -> str:
    return " ".join([person.first_name, person.last_name, *person.aliases]).casefold()


def find_persons(
    uow: UnitOfWork, principal: Principal, query: str, field: str = "person"
) -> list[PersonView]:
    """Persons in the caseload whose CRN, PNC id or prison number is ``query``, or whose names
    (aliases too) contain every word of it; the identifiers win when one matches exactly."""
    wanted = " ".join(query.split()).casefold()
    if not wanted:
        raise ValidationError(field, "Enter a name, CRN, PNC id or prison number")
    if len(wanted) > MAX_QUERY:
        raise ValidationError(field, f"Enter at most {MAX_QUERY} characters")
    caseload = list_persons(uow, principal)
    exact = [p for p in caseload if wanted in _identifiers(p)]
    if exact:
        return exact
    words = wanted.split()
    return [p for p in caseload if all(word in _names(p) for word in words)]
