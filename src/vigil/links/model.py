"""Links between a registry person and what the other services know him as, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LinkTarget(StrEnum):
    """What a registry person is linked to."""

    PRISONER = "prisoner"  # an entry of the prisoner register, by prison number
    MATRIX = "matrix"  # a person of the harm matrix, by its person key


class LinkMethod(StrEnum):
    """How a link was found. An id both sides hold is exact; a name and date of birth are not."""

    PRISON_NUMBER = "prison_number"
    POLICE_ID = "police_id"
    NAME_AND_DATE_OF_BIRTH = "name_and_date_of_birth"


class LinkStatus(StrEnum):
    PROPOSED = "proposed"  # found by name and date of birth: a person must confirm it
    CONFIRMED = "confirmed"  # by an id both sides hold, or confirmed by a person
    UNDONE = "undone"  # a person said it is not him; never proposed again


EXACT_METHODS = frozenset({LinkMethod.PRISON_NUMBER, LinkMethod.POLICE_ID})
# Below this, a name-and-date-of-birth likeness is not put to anyone (the matrix's own rules score
# 0 unless names are close and the date of birth is the same, transposed or one part off).
PROPOSE_FROM = 0.85


@dataclass(frozen=True)
class LinkFound:
    """A link the linkage rules found, before it is stored."""

    person_id: int
    target: LinkTarget
    target_key: str
    method: LinkMethod
    score: float
    reason: str

    @property
    def status(self) -> LinkStatus:
        return LinkStatus.CONFIRMED if self.method in EXACT_METHODS else LinkStatus.PROPOSED


@dataclass(frozen=True)
class PersonLink:
    id: int
    person_id: int
    target: LinkTarget
    target_key: str
    method: LinkMethod
    status: LinkStatus
    score: float
    reason: str
    made_by: str
    made_at: datetime
    decided_by: str | None
    decided_at: datetime | None

    @property
    def in_force(self) -> bool:
        return self.status is LinkStatus.CONFIRMED
