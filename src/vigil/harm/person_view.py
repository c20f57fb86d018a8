"""What the matrix pages read about perpetrators besides their records: the name each goes by,
his incidents, and his standing in the newest run he is in with the explanation of his score.

Victims are never named here: each incident gives the victim as "victim 1", "victim 2" in the
order they first appear, so the pattern across victims shows without their details. The caller
(the person page) has already checked the permission and audited the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from vigil.db.uow import UnitOfWork
from vigil.harm.model import PartyRole
from vigil.harm.tables import harm_identities, harm_incidents, harm_run_entries, harm_runs
from vigil.security import permissions
from vigil.security.model import Principal

_FLAGS = (
    ("domestic_abuse", "domestic abuse"),
    ("stalking", "stalking"),
    ("sexual", "sexual"),
    ("injury", "injury"),
    ("weapon", "weapon"),
)


@dataclass(frozen=True)
class PersonIncident:
    reference: str
    occurred_at: datetime
    force: str
    offence: str
    offence_group: str
    flags: tuple[str, ...]
    victim: str  # "victim 1", or "" when the incident names none


@dataclass(frozen=True)
class Standing:
    """His place in the newest run he is in, and why he scores what he scores."""

    run_id: int
    as_of: datetime
    latest: bool  # that run is the newest run of all
    rank: int
    force: str
    force_rank: int
    score: float
    band: str
    explanation: str


def person_incidents(uow: UnitOfWork, principal: Principal, person_id: str) -> list[PersonIncident]:
    """Every incident in which one of the person's records is the suspect, newest first."""
    principal.require(permissions.HARM_MATRIX)
    suspect = harm_identities.alias("suspect")
    victim = harm_identities.alias("victim")
    rows = uow.connection.execute(
        select(harm_incidents, victim.c.person_key.label("victim_key"))
        .join(suspect, suspect.c.id == harm_incidents.c.suspect_identity_id)
        .outerjoin(victim, victim.c.id == harm_incidents.c.victim_identity_id)
        .where(suspect.c.role == PartyRole.SUSPECT.value, suspect.c.person_key == person_id)
        .order_by(harm_incidents.c.occurred_at, harm_incidents.c.id)
    ).all()
    numbers: dict[str, int] = {}
    incidents = []
    for row in rows:
        if row.victim_key is not None:
            numbers.setdefault(row.victim_key, len(numbers) + 1)
        incidents.append(
            PersonIncident(
                reference=row.incident_ref,
                occurred_at=row.occurred_at,
                force=row.force,
                offence=row.offence,
                offence_group=row.offence_group,
                flags=tuple(words for column, words in _FLAGS if getattr(row, column)),
                victim=f"victim {numbers[row.victim_key]}" if row.victim_key else "",
            )
        )
    return incidents[::-1]


def person_standing(uow: UnitOfWork, principal: Principal, person_id: str) -> Standing | None:
    """His entry in the newest run he appears in; None when no run has ranked him."""
    principal.require(permissions.HARM_MATRIX)
    entries = harm_run_entries
    row = uow.connection.execute(
        select(entries, harm_runs.c.as_of)
        .join(harm_runs, harm_runs.c.id == entries.c.run_id)
        .where(entries.c.person_id == person_id)
        .order_by(entries.c.run_id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    newest = uow.connection.execute(select(func.max(harm_runs.c.id))).scalar()
    return Standing(
        run_id=row.run_id,
        as_of=row.as_of,
        latest=row.run_id == newest,
        rank=row.rank,
        force=row.force,
        force_rank=row.force_rank,
        score=row.score,
        band=row.band,
        explanation=row.explanation,
    )


def display_names(uow: UnitOfWork, principal: Principal, person_keys: list[str]) -> dict[str, str]:
    """The name each perpetrator goes by: as written on the record that carries his police id
    (his key), else on his first named record. Keys with no named record are left out."""
    principal.require(permissions.HARM_MATRIX)
    if not person_keys:
        return {}
    t = harm_identities.c
    rows = uow.connection.execute(
        select(t.person_key, t.source_id, t.display_name)
        .where(t.role == PartyRole.SUSPECT.value, t.person_key.in_(set(person_keys)))
        .order_by(t.id)
    )
    first: dict[str, str] = {}
    by_id: dict[str, str] = {}
    for key, source_id, name in rows:
        if not name:
            continue
        first.setdefault(key, name)
        if source_id == key:
            by_id.setdefault(key, name)
    return {**first, **by_id}
