"""Matrix runs: scoring the stored incidents as of a date, storing and listing the runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import (
    insert,
    select,
)

from vigil.db.uow import UnitOfWork
from vigil.errors import NotFound, ValidationError
from vigil.harm import bulk, scoring
from vigil.harm.harm_index import HarmIndex
from vigil.harm.harm_table import load_harm_index
from vigil.harm.identity_links import latest_model_json
from vigil.harm.model import (
    PartyRole,
    ScoringConfig,
)
from vigil.harm.progress import Progress, silent
from vigil.harm.tables import (
    harm_identities,
    harm_incidents,
    harm_run_entries,
    harm_runs,
)
from vigil.security import audit, permissions
from vigil.security.model import Principal

STORE_LIMIT = 1000


def _sqlite_incidents(uow: UnitOfWork) -> pl.DataFrame:
    """Incidents and identities read separately and joined in memory.

    Joining in SQLite costs two random primary-key lookups per incident into the wide identities
    table; reading ``id, person_key`` comes from the narrow (role, person_key) index instead, and
    times come back as text for polars to parse (far faster than a Python datetime per row).
    """
    identities = bulk.read_chunks(
        uow,
        "SELECT id, person_key FROM harm_identities",
        {"id": pl.Int64, "person_key": pl.Utf8},
    )
    incidents = bulk.read_chunks(
        uow,
        "SELECT suspect_identity_id, victim_identity_id, force, occurred_at, offence,"
        " offence_group, domestic_abuse FROM harm_incidents",
        {
            "suspect_identity_id": pl.Int64,
            "victim_identity_id": pl.Int64,
            "force": pl.Utf8,
            "occurred_at": pl.Utf8,
            "offence": pl.Utf8,
            "offence_group": pl.Utf8,
            "domestic_abuse": pl.Int64,
        },
    )
    keys = identities.rename({"person_key": "person_id"})
    return (
        incidents.join(
            keys, left_on="suspect_identity_id", right_on="id", how="inner", maintain_order="left"
        )
        .join(
            keys.rename({"person_id": "victim_key"}),
            left_on="victim_identity_id",
            right_on="id",
            how="left",
            maintain_order="left",
        )
        .select(
            "person_id",
            "force",
            pl.col("occurred_at")
            .str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f")
            .dt.replace_time_zone("UTC"),
            "offence",
            "offence_group",
            "victim_key",
            pl.col("domestic_abuse").cast(pl.Boolean),
        )
    )


def incidents_frame(uow: UnitOfWork, index: HarmIndex | None = None) -> pl.DataFrame:
    """Every stored incident with its resolved perpetrator and victim, ready for scoring."""
    index = index or load_harm_index(uow)
    if uow.dialect == "sqlite":
        frame = _sqlite_incidents(uow)
    else:
        suspect = harm_identities.alias("s")
        victim = harm_identities.alias("v")
        query = (
            select(
                suspect.c.person_key.label("person_id"),
                harm_incidents.c.force,
                harm_incidents.c.occurred_at,
                harm_incidents.c.offence,
                harm_incidents.c.offence_group,
                victim.c.person_key.label("victim_key"),
                harm_incidents.c.domestic_abuse,
            )
            .select_from(harm_incidents)
            .join(suspect, suspect.c.id == harm_incidents.c.suspect_identity_id)
            .outerjoin(victim, victim.c.id == harm_incidents.c.victim_identity_id)
        )
        frame = pl.DataFrame(
            uow.connection.execute(query).all(),
            schema={
                "person_id": pl.Utf8,
                "force": pl.Utf8,
                "occurred_at": pl.Datetime("us", "UTC"),
                "offence": pl.Utf8,
                "offence_group": pl.Utf8,
                "victim_key": pl.Utf8,
                "domestic_abuse": pl.Boolean,
            },
            orient="row",
        )
    return frame.with_columns(harm=index.expression("offence", "offence_group")).select(
        list(scoring.INCIDENT_SCHEMA)
    )


@dataclass(frozen=True)
class RunSummary:
    id: int
    as_of: datetime
    computed_at: datetime
    actor: str
    persons_scored: int
    incidents_used: int
    harm_index_source: str
    config: dict[str, Any]


def compute_run(
    uow: UnitOfWork,
    *,
    as_of: datetime,
    principal: Principal,
    config: ScoringConfig | None = None,
    store_limit: int = STORE_LIMIT,
    progress: Progress = silent,
) -> int:
    """Score the stored incidents as of a date and keep the top of the list (and each force's)."""
    principal.require(permissions.HARM_MATRIX)
    config = config or ScoringConfig()
    config.check()
    if store_limit < 1:
        raise ValidationError("store_limit", "must be at least 1")
    index = load_harm_index(uow)
    progress("reading incidents")
    frame = incidents_frame(uow, index)
    progress("scoring")
    ranked = scoring.score_frame(frame, as_of, config)
    kept = ranked.filter((pl.col("rank") <= store_limit) | (pl.col("force_rank") <= store_limit))
    progress("explaining")
    kept = kept.with_columns(
        explanation=pl.Series(scoring.explanations(frame, kept, as_of, config), dtype=pl.Utf8)
    )
    now = uow.clock.now()
    model = latest_model_json(uow, PartyRole.SUSPECT)
    run_id = int(
        uow.connection.execute(
            insert(harm_runs).values(
                as_of=as_of,
                computed_at=now,
                actor=principal.actor,
                config=json.dumps(config.as_dict()),
                harm_index_source=index.source[:200],
                persons_scored=ranked.height,
                incidents_used=frame.filter(pl.col("occurred_at") < as_of).height,
                linkage_model_id=model[0] if model else None,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )
    progress("storing the run")
    bulk.bulk_insert(
        uow, harm_run_entries, kept.select(pl.lit(run_id).alias("run_id"), *_ENTRY_COLUMNS)
    )
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="harm.run",
        subject_type="harm_run",
        subject_id=run_id,
        detail={"as_of": as_of.isoformat(), "scored": ranked.height},
    )
    return run_id


# What a run keeps of each ranked person (beside the run's id).
_ENTRY_COLUMNS = (
    "person_id",
    "rank",
    "force",
    "force_rank",
    "score",
    "band",
    "recency_days",
    "frequency",
    "gravity",
    "victims",
    "serial",
    "escalating",
    "explanation",
)


def _summary(row: Any) -> RunSummary:
    return RunSummary(
        row.id,
        row.as_of,
        row.computed_at,
        row.actor,
        row.persons_scored,
        row.incidents_used,
        row.harm_index_source,
        json.loads(row.config),
    )


def list_runs(uow: UnitOfWork, principal: Principal, limit: int = 20) -> list[RunSummary]:
    principal.require(permissions.HARM_MATRIX)
    rows = uow.connection.execute(select(harm_runs).order_by(harm_runs.c.id.desc()).limit(limit))
    return [_summary(r) for r in rows]


def get_run(uow: UnitOfWork, principal: Principal, run_id: int | None = None) -> RunSummary:
    """One stored run, or the newest."""
    principal.require(permissions.HARM_MATRIX)
    query = select(harm_runs)
    query = (
        query.where(harm_runs.c.id == run_id)
        if run_id
        else query.order_by(harm_runs.c.id.desc()).limit(1)
    )
    row = uow.connection.execute(query).first()
    if row is None:
        raise NotFound("harm run")
    return _summary(row)


def as_of_start(day: date) -> datetime:
    """A date given by a user is the start of that day, UTC: incidents before it are counted."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
