"""Release planning: prisoners with contact bars due out within weeks, and what probation needs
before the gate opens.

Each prisoner comes with his bars and attempted contact, his place in the matrix, whether an
order exists, and a proposed exclusion zone around each barred address (the postcode's centroid
and the editor's default radius; the officer adjusts it on the map). Attempted contact in the
last months, then a high place in the matrix, then the nearest release date put him first.
Barred addresses are protected persons' details: only probation, who may see them, plans
releases, and each plan is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from vigil.contact import addresses, prisoner_history
from vigil.contact.matching import RegisteredPrisoner
from vigil.contact.prisoner_history import PrisonerAttempt, PrisonerBar
from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.geo import postcodes
from vigil.harm import positions
from vigil.harm.model import Band
from vigil.harm.positions import MatrixPosition
from vigil.links import service
from vigil.links.model import LinkTarget
from vigil.links.story import recent_attempts
from vigil.security import audit, permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal

MAX_WEEKS = 26
PROPOSED_RADIUS_M = 500  # the order editor's default circle; the officer sets the real one
_BAND_ORDER = {Band.VERY_HIGH.value: 0, Band.HIGH.value: 1, Band.MEDIUM.value: 2}


@dataclass(frozen=True)
class ProposedZone:
    """An exclusion zone around one barred address, or why none could be placed."""

    address: str
    postcode: str | None
    lat: float | None
    lon: float | None
    radius_m: int
    problem: str | None


@dataclass(frozen=True)
class ReleaseCandidate:
    prisoner: RegisteredPrisoner
    person_id: int | None  # the registry person, by a confirmed link
    order_id: int | None  # an order pending or in force for him
    bars: list[PrisonerBar]
    attempts: list[PrisonerAttempt]
    recent_attempts: int
    matrix: MatrixPosition | None
    zones: list[ProposedZone]

    @property
    def release_date(self) -> date:
        assert self.prisoner.release_date is not None
        return self.prisoner.release_date

    @property
    def priority(self) -> str:
        if self.recent_attempts:
            return "high: attempted contact in the last 90 days"
        if self.matrix is not None and self.matrix.band in (Band.VERY_HIGH, Band.HIGH):
            return f"high: {self.matrix.band.replace('_', ' ')} harm in the matrix"
        return "standard"


def release_plan(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, weeks: int
) -> list[ReleaseCandidate]:
    """Barred prisoners due for release in the next ``weeks`` weeks, most urgent first."""
    principal.require(permissions.RELEASE_PLANNING)
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationError("weeks", f"must be a whole number of weeks from 1 to {MAX_WEEKS}")
    today = uow.clock.now().date()
    due = prisoner_history.barred_prisoners_released_between(
        uow, today, today + timedelta(weeks=weeks)
    )
    persons = service.linked_persons(uow, LinkTarget.PRISONER, [p.prison_number for p in due])
    plan = [
        _candidate(uow, cipher, prisoner, persons.get(prisoner.prison_number), today)
        for prisoner in due
    ]
    plan.sort(key=_urgency)
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="release_plan.viewed",
        subject_type="release_plan",
        subject_id=None,
        detail={"weeks": weeks, "prisoners": [c.prisoner.prison_number for c in plan]},
    )
    return plan


def _candidate(
    uow: UnitOfWork,
    cipher: FieldCipher,
    prisoner: RegisteredPrisoner,
    person_id: int | None,
    today: date,
) -> ReleaseCandidate:
    number = prisoner.prison_number
    attempts = prisoner_history.attempts_by(uow, number)
    recent = recent_attempts(attempts, today)
    return ReleaseCandidate(
        prisoner=prisoner,
        person_id=person_id,
        order_id=_current_order(uow, person_id),
        bars=[bar for bar in prisoner_history.bars_naming(uow, number) if bar.active],
        attempts=attempts,
        recent_attempts=len(recent),
        matrix=_matrix_position(uow, person_id),
        zones=[_zone(uow, text) for text in prisoner_history.barred_addresses(uow, cipher, number)],
    )


def _current_order(uow: UnitOfWork, person_id: int | None) -> int | None:
    order = service.current_order(uow, person_id) if person_id is not None else None
    return order.id if order is not None else None


def _matrix_position(uow: UnitOfWork, person_id: int | None) -> MatrixPosition | None:
    if person_id is None:
        return None
    links = service.in_force_and_open(uow, person_id)
    keys = service.confirmed_keys(links, LinkTarget.MATRIX)
    found = positions.latest_positions(uow, keys)
    return min(found, key=lambda p: p.rank) if found else None


def _zone(uow: UnitOfWork, address: str) -> ProposedZone:
    postcode = addresses.normalise_postcode(address.upper())
    if postcode is None:
        problem = "no postcode in the address"
        return ProposedZone(address, None, None, None, PROPOSED_RADIUS_M, problem)
    try:
        found = postcodes.geocode(uow, postcode)
    except ValidationError as exc:
        return ProposedZone(address, postcode, None, None, PROPOSED_RADIUS_M, exc.reason)
    # geocode refuses a postcode without coordinates, so both are set here.
    return ProposedZone(address, found.display, found.lat, found.lon, PROPOSED_RADIUS_M, None)


def _urgency(candidate: ReleaseCandidate) -> tuple[int, int, date, str]:
    band = candidate.matrix.band if candidate.matrix else ""
    return (
        -candidate.recent_attempts,
        _BAND_ORDER.get(band, 3),
        candidate.release_date,
        candidate.prisoner.prison_number,
    )
