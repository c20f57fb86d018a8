"""Tasking reviews (MATAC): recording, closing and listing reviews of a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    func,
    insert,
    select,
    update,
)

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.harm.agencies import AGENCY_LABELS, Agency
from vigil.harm.model import (
    ReviewStatus,
    Tactic,
)
from vigil.harm.tables import (
    harm_identities,
    harm_reviews,
    harm_run_entries,
    harm_runs,
)
from vigil.security import audit, permissions
from vigil.security.model import Principal

MAX_ACTIONS = 4000


MAX_OWNER = 120
_Choice = TypeVar("_Choice", bound=StrEnum)


@dataclass(frozen=True)
class Review:
    id: int
    person_id: str
    force: str
    status: ReviewStatus
    tactic: Tactic
    actions: str
    owner: str | None  # None on reviews recorded before owners were asked for
    agency: Agency | None
    review_date: date
    next_review_date: date | None
    selected_score: float | None
    selected_rank: int | None
    created_at: datetime
    actor: str
    latest_score: float | None = None
    latest_rank: int | None = None

    @property
    def agency_label(self) -> str:
        return AGENCY_LABELS[self.agency] if self.agency else ""


@dataclass(frozen=True)
class _Checked:
    """A tasking review's fields once every one has been checked."""

    person_id: str
    tactic: Tactic
    actions: str
    owner: str
    agency: Agency
    review_date: date
    next_review_date: date | None


def _parse_date(value: str | date | None, name: str, errors: ErrorCollector) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors.add(name, "must be a date (YYYY-MM-DD)")
        return None


def _choice(kind: type[_Choice], value: str, name: str, errors: ErrorCollector) -> _Choice | None:
    try:
        return kind(value)
    except ValueError:
        errors.add(name, "must be one of: " + ", ".join(v.value for v in kind))
        return None


def _agency(value: str, errors: ErrorCollector) -> Agency | None:
    if not value.strip():
        errors.add("agency", "choose the agency that owns the actions")
        return None
    try:
        return Agency(value.strip())
    except ValueError:
        known = ", ".join(f"{a.value} ({AGENCY_LABELS[a]})" for a in Agency)
        errors.add("agency", f"{value.strip()!r} is not an agency here; one of {known}")
        return None


def _owner(value: str, errors: ErrorCollector) -> str:
    owner = " ".join(value.split())
    errors.check(bool(owner), "owner", "name who will carry out the actions")
    errors.check(len(owner) <= MAX_OWNER, "owner", f"is longer than {MAX_OWNER} characters")
    return owner


def _checked(
    person_id: str,
    tactic: str,
    actions: str,
    owner: str,
    agency: str,
    review_date: str | date,
    next_review_date: str | date | None,
) -> _Checked:
    errors = ErrorCollector()
    person_id = person_id.strip()
    errors.check(bool(person_id), "person_id", "is required")
    chosen_tactic = _choice(Tactic, tactic, "tactic", errors)
    actions = actions.strip()
    errors.check(bool(actions), "actions", "say what will be done")
    errors.check(len(actions) <= MAX_ACTIONS, "actions", f"is longer than {MAX_ACTIONS}")
    named = _owner(owner, errors)
    chosen_agency = _agency(agency, errors)
    when = _parse_date(review_date, "review_date", errors)
    if when is None and not any(e.field == "review_date" for e in errors.errors):
        errors.add("review_date", "is required")
    following = _parse_date(next_review_date, "next_review_date", errors)
    if when and following and following <= when:
        errors.add("next_review_date", "must be after the review date")
    errors.raise_if_any()
    assert when is not None
    assert chosen_tactic is not None
    assert chosen_agency is not None
    return _Checked(person_id, chosen_tactic, actions, named, chosen_agency, when, following)


def _latest_entry(uow: UnitOfWork, person_id: str) -> Any:
    """The person's place in the newest run he is in; a person known only from imported
    incidents has none, and one unknown to the matrix is refused."""
    latest = uow.connection.execute(
        select(
            harm_run_entries.c.run_id,
            harm_run_entries.c.score,
            harm_run_entries.c.rank,
            harm_run_entries.c.force,
        )
        .where(harm_run_entries.c.person_id == person_id)
        .order_by(harm_run_entries.c.run_id.desc())
        .limit(1)
    ).first()
    if latest is None:
        known = uow.connection.execute(
            select(harm_identities.c.id).where(harm_identities.c.person_key == person_id).limit(1)
        ).first()
        if known is None:
            raise ValidationError("person_id", "is not a perpetrator in the matrix")
    return latest


def create_review(
    uow: UnitOfWork,
    *,
    person_id: str,
    tactic: str,
    actions: str,
    owner: str,
    agency: str,
    review_date: str | date,
    next_review_date: str | date | None,
    principal: Principal,
) -> int:
    """Select a perpetrator for tasking, with the tactic, the actions agreed, who owns them for
    which agency, and the dates."""
    principal.require(permissions.HARM_MATRIX)
    review = _checked(person_id, tactic, actions, owner, agency, review_date, next_review_date)
    latest = _latest_entry(uow, review.person_id)
    review_id = int(
        uow.connection.execute(
            insert(harm_reviews).values(
                person_id=review.person_id,
                force=latest.force if latest else "",
                status=ReviewStatus.OPEN,
                tactic=review.tactic,
                actions=review.actions,
                owner=review.owner,
                agency=review.agency,
                review_date=review.review_date,
                next_review_date=review.next_review_date,
                selected_run_id=latest.run_id if latest else None,
                selected_score=latest.score if latest else None,
                selected_rank=latest.rank if latest else None,
                created_at=uow.clock.now(),
                actor=principal.actor,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="harm.review.create",
        subject_type="harm_review",
        subject_id=review_id,
        detail={"person_id": review.person_id, "tactic": review.tactic, "agency": review.agency},
    )
    return review_id


def close_review(uow: UnitOfWork, review_id: int, principal: Principal) -> None:
    principal.require(permissions.HARM_MATRIX)
    actor = principal.actor
    row = uow.connection.execute(select(harm_reviews).where(harm_reviews.c.id == review_id)).first()
    if row is None:
        raise NotFound(f"review {review_id}")
    if row.status == ReviewStatus.CLOSED.value:
        raise ValidationError("status", "the review is already closed")
    uow.connection.execute(
        update(harm_reviews)
        .where(harm_reviews.c.id == review_id)
        .values(status=ReviewStatus.CLOSED, closed_at=uow.clock.now())
    )
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=actor,
        action="harm.review.close",
        subject_type="harm_review",
        subject_id=review_id,
    )


def list_reviews(
    uow: UnitOfWork, principal: Principal, person_id: str | None = None
) -> list[Review]:
    """Reviews with the person's latest score, so the effect of the tactic can be followed."""
    principal.require(permissions.HARM_MATRIX)
    query = select(harm_reviews).order_by(
        harm_reviews.c.review_date.desc(), harm_reviews.c.id.desc()
    )
    if person_id:
        query = query.where(harm_reviews.c.person_id == person_id)
    rows = uow.connection.execute(query).all()
    latest: dict[str, tuple[float, int]] = {}
    people = list({r.person_id for r in rows})
    if people:
        newest = select(func.max(harm_runs.c.id)).scalar_subquery()
        for person, score, rank in uow.connection.execute(
            select(
                harm_run_entries.c.person_id, harm_run_entries.c.score, harm_run_entries.c.rank
            ).where(harm_run_entries.c.run_id == newest, harm_run_entries.c.person_id.in_(people))
        ):
            latest[person] = (score, rank)
    return [
        Review(
            r.id,
            r.person_id,
            r.force,
            ReviewStatus(r.status),
            Tactic(r.tactic),
            r.actions,
            r.owner,
            Agency(r.agency) if r.agency else None,
            r.review_date,
            r.next_review_date,
            r.selected_score,
            r.selected_rank,
            r.created_at,
            r.actor,
            *(latest.get(r.person_id) or (None, None)),
        )
        for r in rows
    ]
