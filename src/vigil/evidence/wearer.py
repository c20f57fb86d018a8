"""Who a document is about, as people name him: the wearer's name and probation CRN (documents
for officers and courts never name a person by Vigil's internal id alone)."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.db.uow import UnitOfWork
from vigil.people import service as people


@dataclass(frozen=True)
class Wearer:
    id: str
    name: str
    crn: str | None

    @property
    def named(self) -> str:
        """ "John Smith (CRN X123456)", or the name alone when he has no CRN."""
        return f"{self.name} (CRN {self.crn})" if self.crn else self.name


def wearer_of(uow: UnitOfWork, person_id: str) -> Wearer:
    """The registry's name and CRN of a person the caller already found in scope."""
    found = people.persons_by_ids(uow, [int(person_id)]) if person_id.isdigit() else {}
    person = found.get(int(person_id)) if found else None
    if person is None:
        return Wearer(person_id, f"person {person_id} (not in the registry)", None)
    return Wearer(person_id, person.full_name, person.crn)
