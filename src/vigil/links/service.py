"""Use cases on links: look for a person's links, read them, confirm or undo one.

Every change is audited with who made it and why; an undone link is kept (and never proposed
again), so the record of who said "not him" stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, insert, select, update

from vigil.contact import prisoner_history
from vigil.db.uow import UnitOfWork
from vigil.errors import NotFound, ValidationError
from vigil.harm import positions
from vigil.links.linking import find_links, prisoner_writings, suspect_writings
from vigil.links.model import LinkFound, LinkMethod, LinkStatus, LinkTarget, PersonLink
from vigil.links.tables import person_links
from vigil.orders import service as orders
from vigil.orders.model import OrderStatus
from vigil.orders.service import OrderView
from vigil.people import service as people
from vigil.security import audit, permissions
from vigil.security.model import SYSTEM, Principal
from vigil.text import text_problem


@dataclass(frozen=True)
class FindReport:
    persons: int
    confirmed: int  # new links by an id both records hold
    proposed: int  # new likenesses waiting for a person


def find_person_links(
    uow: UnitOfWork, principal: Principal, person_id: int | None = None
) -> FindReport:
    """Look for links of one person (in the caller's caseload) or of every person."""
    principal.require(permissions.PERSON_LINKS_FIND)
    if person_id is not None:
        persons = [people.visible_person(uow, principal, person_id)]
    else:
        persons = people.list_persons(uow, principal)
    prisoners = prisoner_writings(prisoner_history.register_entries(uow))
    suspects = suspect_writings(positions.suspect_records(uow))
    known = {
        (r.person_id, r.target, r.target_key) for r in uow.connection.execute(select(person_links))
    }
    found = [
        link
        for person in persons
        for link in find_links(person, prisoners, suspects)
        if (link.person_id, link.target.value, link.target_key) not in known
    ]
    for link in found:
        _store(uow, principal, link)
    confirmed = sum(1 for link in found if link.status is LinkStatus.CONFIRMED)
    return FindReport(len(persons), confirmed, len(found) - confirmed)


def _store(uow: UnitOfWork, principal: Principal, link: LinkFound) -> None:
    now = uow.clock.now()
    link_id = uow.connection.execute(
        insert(person_links)
        .values(
            person_id=link.person_id,
            target=link.target.value,
            target_key=link.target_key,
            method=link.method.value,
            status=link.status.value,
            score=link.score,
            reason=link.reason,
            made_by=principal.actor,
            made_at=now,
        )
        .returning(person_links.c.id)
    ).scalar_one()
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action=f"person_link.{link.status.value}",
        subject_type="person_link",
        subject_id=int(link_id),
        detail={
            "person_id": link.person_id,
            "target": link.target.value,
            "method": link.method.value,
            "reason": link.reason,
        },
    )


def links_of(uow: UnitOfWork, principal: Principal, person_id: int) -> list[PersonLink]:
    """A person's links, in force first. Officers see their caseload's; case handlers and
    analysts reach a person only through a link their own service holds."""
    principal.require(permissions.PERSON_LINKS_READ)
    if principal.may(permissions.PERSONS_READ):
        people.visible_person(uow, principal, person_id)
    return in_force_and_open(uow, person_id)


def in_force_and_open(uow: UnitOfWork, person_id: int) -> list[PersonLink]:
    """The person's confirmed and proposed links (for the other use cases of this part)."""
    rows = uow.connection.execute(
        select(person_links)
        .where(
            person_links.c.person_id == person_id,
            person_links.c.status != LinkStatus.UNDONE.value,
        )
        .order_by(person_links.c.status, person_links.c.target, person_links.c.id)
    )
    return [as_link(row) for row in rows]


def linked_persons(
    uow: UnitOfWork, target: LinkTarget, keys: list[str] | None = None
) -> dict[str, int]:
    """Registry person of each of the other service's keys (or of every key linked), by links
    in force."""
    if keys is not None and not keys:
        return {}
    query = select(person_links.c.target_key, person_links.c.person_id).where(
        person_links.c.target == target.value,
        person_links.c.status == LinkStatus.CONFIRMED.value,
    )
    if keys is not None:
        query = query.where(person_links.c.target_key.in_(keys))
    return {row.target_key: int(row.person_id) for row in uow.connection.execute(query)}


def confirmed_keys(links: list[PersonLink], target: LinkTarget) -> list[str]:
    """The other service's keys the links in force reach."""
    return [link.target_key for link in links if link.in_force and link.target is target]


def current_order(uow: UnitOfWork, person_id: int) -> OrderView | None:
    """His order pending or in force (read on behalf of the caller's use case), if any."""
    current = [
        order
        for order in orders.list_orders(uow, SYSTEM, person_id)
        if order.status in (OrderStatus.ACTIVE, OrderStatus.PENDING)
    ]
    return current[0] if current else None


def confirm_link(uow: UnitOfWork, principal: Principal, link_id: int) -> PersonLink:
    return _decide(uow, principal, link_id, LinkStatus.CONFIRMED, "")


def undo_link(uow: UnitOfWork, principal: Principal, link_id: int, reason: str) -> PersonLink:
    return _decide(uow, principal, link_id, LinkStatus.UNDONE, reason)


def _decide(
    uow: UnitOfWork, principal: Principal, link_id: int, status: LinkStatus, reason: str
) -> PersonLink:
    principal.require(permissions.PERSON_LINKS_DECIDE)
    row = uow.connection.execute(select(person_links).where(person_links.c.id == link_id)).first()
    if row is None:
        raise NotFound(f"link {link_id}")
    link = as_link(row)
    principal.require(
        permissions.PRISONER_LINKS_DECIDE
        if link.target is LinkTarget.PRISONER
        else permissions.MATRIX_LINKS_DECIDE
    )
    if principal.may(permissions.PERSONS_READ):
        people.visible_person(uow, principal, link.person_id)
    if status is LinkStatus.UNDONE:
        reason = _undo_reason(reason)
    elif link.status is not LinkStatus.PROPOSED:
        raise ValidationError("link", f"is {link.status.value}: only a proposed link is confirmed")
    now = uow.clock.now()
    uow.connection.execute(
        update(person_links)
        .where(person_links.c.id == link_id)
        .values(status=status.value, decided_by=principal.actor, decided_at=now)
    )
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action=f"person_link.{status.value}",
        subject_type="person_link",
        subject_id=link_id,
        detail={"person_id": link.person_id, "target": link.target.value, "reason": reason},
    )
    return as_link(
        uow.connection.execute(select(person_links).where(person_links.c.id == link_id)).one()
    )


def _undo_reason(raw: str) -> str:
    reason = raw.strip()
    problem = "is required: say why this is not him" if not reason else None
    problem = problem or text_problem(reason, max_length=500, multiline=True)
    if problem:
        raise ValidationError("reason", problem)
    return reason


def as_link(row: Row[Any]) -> PersonLink:
    return PersonLink(
        id=row.id,
        person_id=row.person_id,
        target=LinkTarget(row.target),
        target_key=row.target_key,
        method=LinkMethod(row.method),
        status=LinkStatus(row.status),
        score=row.score,
        reason=row.reason,
        made_by=row.made_by,
        made_at=row.made_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )
