"""Reading a run's matrix: ranked perpetrators, movement against the previous run, forces."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    func,
    select,
)

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.harm.model import Movement, movement
from vigil.harm.runs import STORE_LIMIT
from vigil.harm.tables import (
    harm_run_entries,
    harm_runs,
)
from vigil.security import permissions
from vigil.security.model import Principal


@dataclass(frozen=True)
class MatrixRow:
    rank: int
    person_id: str
    force: str
    force_rank: int
    score: float
    band: str
    recency_days: int
    frequency: int
    gravity: float
    victims: int
    serial: bool
    escalating: bool
    explanation: str
    movement: Movement = Movement.SAME
    previous_rank: int | None = None


def previous_run_id(uow: UnitOfWork, run_id: int) -> int | None:
    found = uow.connection.execute(
        select(func.max(harm_runs.c.id)).where(harm_runs.c.id < run_id)
    ).scalar()
    return int(found) if found else None


def matrix(
    uow: UnitOfWork,
    principal: Principal,
    run_id: int,
    *,
    force: str | None = None,
    band: str | None = None,
    serial_only: bool = False,
    escalating_only: bool = False,
    top: int = 100,
) -> list[MatrixRow]:
    """The top of a stored run (national or one force), with movement since the last run."""
    principal.require(permissions.HARM_MATRIX)
    if not 1 <= top <= STORE_LIMIT:
        raise ValidationError("top", f"must be between 1 and {STORE_LIMIT}")
    e = harm_run_entries
    rank_col = e.c.force_rank if force else e.c.rank
    query = select(e).where(e.c.run_id == run_id, rank_col <= top)
    if force:
        query = query.where(e.c.force == force)
    if band:
        query = query.where(e.c.band == band)
    if serial_only:
        query = query.where(e.c.serial.is_(True))
    if escalating_only:
        query = query.where(e.c.escalating.is_(True))
    rows = uow.connection.execute(query.order_by(rank_col)).all()
    previous_id = previous_run_id(uow, run_id)
    before = _ranks_before(uow, previous_id, [r.person_id for r in rows], force, top)
    out = []
    for r in rows:
        rank = r.force_rank if force else r.rank
        was = before.get(r.person_id)
        out.append(
            MatrixRow(
                rank,
                r.person_id,
                r.force,
                r.force_rank,
                r.score,
                r.band,
                r.recency_days,
                r.frequency,
                r.gravity,
                r.victims,
                r.serial,
                r.escalating,
                r.explanation,
                movement(previous_id is not None, was, rank),
                was,
            )
        )
    return out


def _ranks_before(
    uow: UnitOfWork, previous_id: int | None, persons: list[str], force: str | None, top: int
) -> dict[str, int]:
    """The persons' ranks (national or in the force) in the run before, where in its top."""
    if previous_id is None or not persons:
        return {}
    e = harm_run_entries
    prev_rank = e.c.force_rank if force else e.c.rank
    rows = uow.connection.execute(
        select(e.c.person_id, prev_rank).where(
            e.c.run_id == previous_id, e.c.person_id.in_(persons), prev_rank <= top
        )
    )
    return {person: rank for person, rank in rows}


def dropped_out(
    uow: UnitOfWork,
    principal: Principal,
    run_id: int,
    *,
    force: str | None = None,
    top: int = 100,
) -> list[tuple[str, int]]:
    """(person, previous rank) of those in the previous run's top who are not in this one's."""
    principal.require(permissions.HARM_MATRIX)
    previous_id = previous_run_id(uow, run_id)
    if previous_id is None:
        return []
    e = harm_run_entries
    rank_col = e.c.force_rank if force else e.c.rank

    def top_of(rid: int) -> dict[str, int]:
        query = select(e.c.person_id, rank_col).where(e.c.run_id == rid, rank_col <= top)
        if force:
            query = query.where(e.c.force == force)
        return {person: rank for person, rank in uow.connection.execute(query)}

    now = top_of(run_id)
    return sorted(
        ((p, r) for p, r in top_of(previous_id).items() if p not in now), key=lambda item: item[1]
    )


def forces_in_runs(uow: UnitOfWork, principal: Principal, run_id: int) -> list[str]:
    principal.require(permissions.HARM_MATRIX)
    return list(
        uow.connection.execute(
            select(harm_run_entries.c.force)
            .where(harm_run_entries.c.run_id == run_id)
            .distinct()
            .order_by(harm_run_entries.c.force)
        ).scalars()
    )
