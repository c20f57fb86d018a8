"""A person's records and score history (reading victims' details is audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    func,
    select,
)

from vigil.db.uow import UnitOfWork
from vigil.errors import NotFound
from vigil.harm.linkage import LinkEvidence
from vigil.harm.model import (
    PartyRole,
)
from vigil.harm.tables import (
    harm_identities,
    harm_incidents,
    harm_run_entries,
    harm_runs,
)
from vigil.security import audit, permissions
from vigil.security.model import Principal


@dataclass(frozen=True)
class PersonRecord:
    identity_id: int
    name: str
    dob: date | None
    source_id: str | None
    reason: str
    score: float
    linked_to: int | None
    incidents: int
    registry_person_id: str | None
    evidence: LinkEvidence | None = None


def person_records(uow: UnitOfWork, person_id: str, principal: Principal) -> list[PersonRecord]:
    """How a perpetrator was written down, with each link's reason and score (audited view)."""
    principal.require(permissions.HARM_MATRIX)
    actor = principal.actor
    counts = (
        select(harm_incidents.c.suspect_identity_id, func.count().label("n"))
        .group_by(harm_incidents.c.suspect_identity_id)
        .subquery()
    )
    rows = uow.connection.execute(
        select(harm_identities, func.coalesce(counts.c.n, 0).label("n"))
        .outerjoin(counts, counts.c.suspect_identity_id == harm_identities.c.id)
        .where(
            harm_identities.c.role == PartyRole.SUSPECT.value,
            harm_identities.c.person_key == person_id,
        )
        .order_by(harm_identities.c.id)
    ).all()
    if not rows:
        raise NotFound(f"perpetrator {person_id}")
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=actor,
        action="harm.person.view",
        subject_type="harm_person",
        subject_id=person_id,
    )
    return [
        PersonRecord(
            r.id,
            r.display_name or "",
            r.dob,
            r.source_id,
            r.link_reason,
            r.link_score,
            r.linked_to,
            r.n,
            r.registry_person_id,
            LinkEvidence.from_json(r.link_evidence) if r.link_evidence else None,
        )
        for r in rows
    ]


def score_history(
    uow: UnitOfWork, principal: Principal, person_id: str
) -> list[tuple[int, datetime, int, float]]:
    """(run, as of, rank, score) for every stored run the person appears in, oldest first."""
    principal.require(permissions.HARM_MATRIX)
    rows = uow.connection.execute(
        select(harm_runs.c.id, harm_runs.c.as_of, harm_run_entries.c.rank, harm_run_entries.c.score)
        .join(harm_run_entries, harm_run_entries.c.run_id == harm_runs.c.id)
        .where(harm_run_entries.c.person_id == person_id)
        .order_by(harm_runs.c.as_of, harm_runs.c.id)
    )
    return [(r.id, r.as_of, r.rank, r.score) for r in rows]
