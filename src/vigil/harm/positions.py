"""Where a matrix person stands, for the parts that join the services up: his place in the latest
run and how it moved since the run before, and the suspects' names and police ids a registry
person can be linked by.

Reads only; the caller's use case checks its permission and audits the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from vigil.db.uow import UnitOfWork
from vigil.harm.matrix import previous_run_id
from vigil.harm.model import Movement, PartyRole, movement
from vigil.harm.tables import harm_identities, harm_run_entries, harm_runs


@dataclass(frozen=True)
class MatrixPosition:
    person_key: str
    run_id: int
    as_of: datetime
    rank: int
    force: str
    force_rank: int
    score: float
    band: str
    explanation: str
    previous_rank: int | None  # in the run before; None when he was not ranked then
    movement: Movement


@dataclass(frozen=True)
class SuspectRecord:
    """One way a matrix person was written down as a suspect."""

    person_key: str
    police_id: str | None
    name: str
    date_of_birth: date | None


def latest_run_id(uow: UnitOfWork) -> int | None:
    found = uow.connection.execute(select(func.max(harm_runs.c.id))).scalar()
    return int(found) if found else None


def runs_after(uow: UnitOfWork, after_id: int) -> list[int]:
    rows = uow.connection.execute(
        select(harm_runs.c.id).where(harm_runs.c.id > after_id).order_by(harm_runs.c.id)
    )
    return [int(row.id) for row in rows]


def positions_in(uow: UnitOfWork, run_id: int, person_keys: list[str]) -> list[MatrixPosition]:
    """The persons' places in a run, with their movement since the run before."""
    if not person_keys:
        return []
    conn = uow.connection
    e = harm_run_entries
    run = conn.execute(select(harm_runs.c.as_of).where(harm_runs.c.id == run_id)).first()
    if run is None:
        return []
    rows = conn.execute(
        select(e).where(e.c.run_id == run_id, e.c.person_id.in_(person_keys)).order_by(e.c.rank)
    ).all()
    previous = previous_run_id(uow, run_id)
    before: dict[str, int] = {}
    if previous is not None and rows:
        before = dict(
            conn.execute(
                select(e.c.person_id, e.c.rank).where(
                    e.c.run_id == previous, e.c.person_id.in_([r.person_id for r in rows])
                )
            ).all()
        )
    return [
        MatrixPosition(
            person_key=r.person_id,
            run_id=run_id,
            as_of=run.as_of,
            rank=r.rank,
            force=r.force,
            force_rank=r.force_rank,
            score=r.score,
            band=r.band,
            explanation=r.explanation,
            previous_rank=before.get(r.person_id),
            movement=movement(previous is not None, before.get(r.person_id), r.rank),
        )
        for r in rows
    ]


def latest_positions(uow: UnitOfWork, person_keys: list[str]) -> list[MatrixPosition]:
    run_id = latest_run_id(uow)
    return positions_in(uow, run_id, person_keys) if run_id is not None else []


def suspect_records(uow: UnitOfWork) -> list[SuspectRecord]:
    """Every distinct suspect record (victims' details are never read here)."""
    t = harm_identities.c
    rows = uow.connection.execute(
        select(t.person_key, t.source_id, t.display_name, t.dob)
        .where(t.role == PartyRole.SUSPECT.value)
        .order_by(t.id)
    )
    return [
        SuspectRecord(row.person_key, row.source_id, row.display_name or "", row.dob)
        for row in rows
    ]
