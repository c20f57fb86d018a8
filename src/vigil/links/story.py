"""The whole story of one perpetrator, told to each role by what it may see.

* The officer who manages a tagged man, and the monitoring centre: the contact bars that protect
  his victims (scope and dates; never who or where they are), his refused calls and held letters,
  and his place in the matrix with its explanation and trend.
* A case handler: whether the barred prisoner is tagged after release, and who manages him.
* An analyst: whether a matrix person is tagged, under which order.

Each view is audited with why it was shown; a view through a link that is only proposed shows
nothing until a person confirms the link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from vigil.contact import prisoner_history
from vigil.contact.matching import RegisteredPrisoner
from vigil.contact.prisoner_history import PrisonerAttempt, PrisonerBar
from vigil.db.uow import UnitOfWork
from vigil.harm import positions
from vigil.harm.positions import MatrixPosition
from vigil.links import service
from vigil.links.model import LinkTarget, PersonLink
from vigil.orders.model import OrderStatus
from vigil.people import reference_data
from vigil.people import service as people
from vigil.security import audit, permissions
from vigil.security.model import SYSTEM, Principal

RECENT_DAYS = 90  # attempted contact this recent raises a release's priority and an alert's


def recent_attempts(attempts: list[PrisonerAttempt], today: date) -> list[PrisonerAttempt]:
    """Attempted contact recent enough to raise a release's priority."""
    return [a for a in attempts if (today - a.at.date()).days <= RECENT_DAYS]


@dataclass(frozen=True)
class PrisonSide:
    """What the contact service knows about him, by his prisoner-register entry."""

    prisoner: RegisteredPrisoner
    bars: list[PrisonerBar]
    attempts: list[PrisonerAttempt]


@dataclass(frozen=True)
class PersonStory:
    person_id: int
    links: list[PersonLink]
    prison: list[PrisonSide] = field(default_factory=list)
    matrix: list[MatrixPosition] = field(default_factory=list)


@dataclass(frozen=True)
class Tagging:
    """Whether a man another service knows is tagged, and who manages him."""

    person_id: int
    name: str
    crn: str | None
    tagged: bool
    order_id: int | None
    order_status: OrderStatus | None
    team: str | None
    officer: str | None


def person_story(uow: UnitOfWork, principal: Principal, person_id: int) -> PersonStory:
    """The contact and matrix sides of a registry person's story (officer, monitoring centre)."""
    principal.require(permissions.CROSS_SERVICE_STORY)
    people.visible_person(uow, principal, person_id)
    links = service.in_force_and_open(uow, person_id)
    prison = [
        _prison_side(uow, number) for number in service.confirmed_keys(links, LinkTarget.PRISONER)
    ]
    matrix_keys = service.confirmed_keys(links, LinkTarget.MATRIX)
    story = PersonStory(
        person_id,
        links,
        [side for side in prison if side is not None],
        positions.latest_positions(uow, matrix_keys),
    )
    _audit_view(uow, principal, "cross_service.story.viewed", person_id, "managing the person")
    return story


def _prison_side(uow: UnitOfWork, prison_number: str) -> PrisonSide | None:
    prisoner = prisoner_history.register_entry(uow, prison_number)
    if prisoner is None:
        return None
    return PrisonSide(
        prisoner,
        prisoner_history.bars_naming(uow, prison_number),
        prisoner_history.attempts_by(uow, prison_number),
    )


def tagging_for_prisoner(
    uow: UnitOfWork, principal: Principal, prison_number: str
) -> Tagging | None:
    """For a case handler: whether the barred prisoner is tagged now, and who manages him."""
    principal.require(permissions.TAGGING_FOR_CASE)
    return _tagging(uow, principal, LinkTarget.PRISONER, prison_number, "a contact case")


def tagging_for_matrix_person(
    uow: UnitOfWork, principal: Principal, person_key: str
) -> Tagging | None:
    """For an analyst: whether a matrix person is tagged, under which order."""
    principal.require(permissions.TAGGING_FOR_MATRIX)
    return _tagging(uow, principal, LinkTarget.MATRIX, person_key, "multi-agency tasking")


def _tagging(
    uow: UnitOfWork, principal: Principal, target: LinkTarget, key: str, why: str
) -> Tagging | None:
    person_id = service.linked_persons(uow, target, [key]).get(key)
    if person_id is None:
        return None
    # The caller's service holds the link; the registry is read on its behalf, and audited.
    person = people.get_person(uow, SYSTEM, person_id)
    order = service.current_order(uow, person_id)
    officer = (
        reference_data.get_officer(uow, order.responsible_officer_id)
        if order is not None and order.responsible_officer_id is not None
        else None
    )
    _audit_view(uow, principal, "cross_service.tagging.viewed", person_id, why)
    return Tagging(
        person_id=person_id,
        name=person.full_name,
        crn=person.crn,
        tagged=order is not None and order.status is OrderStatus.ACTIVE,
        order_id=order.id if order else None,
        order_status=order.status if order else None,
        team=person.team_name,
        officer=officer.name if officer else None,
    )


def _audit_view(
    uow: UnitOfWork, principal: Principal, action: str, person_id: int, why: str
) -> None:
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action=action,
        subject_type="person",
        subject_id=person_id,
        detail={"reason": why, "role": principal.role.value},
    )
