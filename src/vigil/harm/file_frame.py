"""Resolving a parsed incident file in memory, without storage (backtests, benchmarks, the CLI)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import polars as pl

from vigil.harm import scoring
from vigil.harm.harm_index import HarmIndex
from vigil.harm.identity_links import resolution_method
from vigil.harm.model import (
    PartyRole,
)
from vigil.harm.names import name_parts
from vigil.harm.resolution import ResolutionStats, resolve_frame


def resolved_frame(
    rows: pl.DataFrame,
    index: HarmIndex,
    stats: Sequence[ResolutionStats] = (),
    method: Literal["splink", "rules"] = "splink",
    keep: Sequence[str] = (),
) -> pl.DataFrame:
    """In memory (no storage): resolve a parsed file's suspects and victims, ready for scoring.

    Victims first, so suspects' records can be compared on the victims they share. ``keep`` names
    further columns of ``rows`` to carry through (say ``incident_ref``, to measure resolution).
    """
    victim_stats = stats[1] if len(stats) > 1 else ResolutionStats()
    suspect_stats = stats[0] if stats else ResolutionStats()
    victims = _resolve_role(
        rows, PartyRole.VICTIM, None, victim_stats, resolution_method(PartyRole.VICTIM)
    )
    suspects = _resolve_role(rows, PartyRole.SUSPECT, victims, suspect_stats, method)
    return (
        rows.join(
            suspects, on=["suspect_id", "suspect_name", "s_dob"], how="left", nulls_equal=True
        )
        .rename({"person_key": "person_id"})
        .join(victims, on=["victim_id", "victim_name", "v_dob"], how="left", nulls_equal=True)
        .rename({"person_key": "victim_key"})
        .with_columns(
            occurred_at=pl.col("occurred"),
            harm=index.expression("offence", "offence_group"),
        )
        .select([*scoring.INCIDENT_SCHEMA, *keep])
    )


def _resolve_role(
    rows: pl.DataFrame,
    role: PartyRole,
    victim_keys: pl.DataFrame | None,
    stats: ResolutionStats,
    method: Literal["splink", "rules"],
) -> pl.DataFrame:
    """Each distinct (id, name, date of birth) of one party's role with its resolved person key.

    Suspects are compared on the victims they share: ``victim_keys`` is the victims' result."""
    prefix = role.value
    parsed_dob = "s_dob" if role is PartyRole.SUSPECT else "v_dob"
    present = rows.filter((pl.col(f"{prefix}_id") != "") | (pl.col(f"{prefix}_name") != ""))
    if victim_keys is not None:
        present = present.join(
            victim_keys.rename({"person_key": "victim_key"}),
            on=["victim_id", "victim_name", "v_dob"],
            how="left",
            nulls_equal=True,
        )
    else:
        present = present.with_columns(victim_key=pl.lit(None, dtype=pl.Utf8))
    distinct = (
        present.group_by(f"{prefix}_id", f"{prefix}_name", parsed_dob, maintain_order=True)
        .agg(
            victims=pl.col("victim_key").drop_nulls().unique().sort(),
            forces=pl.col("force").unique().sort(),
        )
        .with_row_index("id", offset=1)
        .with_columns(pl.col("id").cast(pl.Int64))
    )
    frame = name_parts(distinct, f"{prefix}_name").select(
        "id",
        source_id=pl.when(pl.col(f"{prefix}_id").str.strip_chars() == "")
        .then(None)
        .otherwise(pl.col(f"{prefix}_id").str.strip_chars().str.to_uppercase()),
        given="given",
        family="family",
        dob=parsed_dob,
        family_parts="family_parts",
        victims="victims",
        forces="forces",
    )
    resolved = resolve_frame(
        frame,
        stats=stats,
        prefix="HX" if role is PartyRole.SUSPECT else "VX",
        method=method,
    )
    return (
        distinct.select("id", f"{prefix}_id", f"{prefix}_name", parsed_dob)
        .join(resolved.select("id", "person_key"), on="id")
        .drop("id")
    )
