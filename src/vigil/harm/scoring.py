"""RFGV scoring and ranking over a frame of incidents (polars, vectorised).

The incident frame has one row per incident: ``person_id`` (resolved perpetrator), ``force``,
``occurred_at`` (UTC datetime), ``offence_group``, ``harm`` (days, from the harm index),
``victim_key`` (resolved victim, may be null) and ``domestic_abuse``. Everything here is a pure
function of that frame, the as-of instant and the ``ScoringConfig``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import polars as pl

from vigil.harm.model import Band, Components, ScoringConfig, explain

DAY_US = 86_400 * 1_000_000
SCORE_COLUMNS = (
    "rank",
    "person_id",
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
    "domestic_in_window",
    "incidents",
)
INCIDENT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "person_id": pl.Utf8,
    "force": pl.Utf8,
    "occurred_at": pl.Datetime("us", "UTC"),
    "offence_group": pl.Utf8,
    "harm": pl.Float64,
    "victim_key": pl.Utf8,
    "domestic_abuse": pl.Boolean,
}


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    return value.astimezone(UTC)


def _window(as_of: datetime, days: int) -> pl.Expr:
    return pl.col("occurred_at") >= pl.lit(as_of - timedelta(days=days)).dt.convert_time_zone("UTC")


def score_frame(incidents: pl.DataFrame, as_of: datetime, config: ScoringConfig) -> pl.DataFrame:
    """Score and rank every perpetrator with an incident in the look-back before ``as_of``."""
    as_of = as_utc(as_of)
    lit_as_of = pl.lit(as_of).dt.convert_time_zone("UTC")
    recent = incidents.lazy().filter(
        (pl.col("occurred_at") < lit_as_of) & _window(as_of, config.lookback_days)
    )
    scored = (
        _aggregated(recent, as_of, config)
        .join(_escalation(recent, config), on="person_id", how="left")
        .with_columns(
            recency_days=((lit_as_of - pl.col("last_at")).dt.total_microseconds() // DAY_US).cast(
                pl.Int64
            ),
            victims=pl.col("victims").cast(pl.Int64),
            escalating=pl.col("escalating").fill_null(False),
        )
        .with_columns(**_components(config))
        .with_columns(score=_score(config))
        .sort(
            ["score", "gravity", "frequency", "recency_days", "person_id"],
            descending=[True, True, True, False, False],
        )
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
        .with_columns(force_rank=pl.col("rank").rank("ordinal").over("force").cast(pl.Int64))
        .with_columns(band=_band(config))
        .select(SCORE_COLUMNS)
    )
    return scored.collect()


def _aggregated(recent: pl.LazyFrame, as_of: datetime, config: ScoringConfig) -> pl.LazyFrame:
    """Per person: the latest incident, frequency, gravity and victims, each in its window."""
    in_freq = _window(as_of, config.frequency_window_days)
    in_grav = _window(as_of, config.gravity_window_days)
    in_vict = _window(as_of, config.victims_window_days)
    return recent.group_by("person_id").agg(
        last_at=pl.col("occurred_at").max(),
        force=pl.col("force").sort_by("occurred_at").last(),
        frequency=in_freq.sum().cast(pl.Int64),
        domestic_in_window=(in_freq & pl.col("domestic_abuse")).sum().cast(pl.Int64),
        gravity=pl.col("harm").filter(in_grav).sum(),
        incidents=in_grav.sum().cast(pl.Int64),
        victims=pl.col("victim_key")
        .filter(in_vict & pl.col("victim_key").is_not_null())
        .n_unique(),
    )


def _escalation(recent: pl.LazyFrame, config: ScoringConfig) -> pl.LazyFrame:
    """Whether each person is escalating: the least-squares slope of log harm over the last
    few incidents in order is positive, and the last is worse than the first."""
    last_k = (
        recent.sort("person_id", "occurred_at")
        .with_columns(
            pos=pl.int_range(pl.len()).over("person_id"),
            n=pl.len().over("person_id").cast(pl.Int64),
            y=pl.col("harm").log1p(),
        )
        .filter(pl.col("pos") >= pl.col("n") - config.escalation_incidents)
    )
    x_dev = pl.col("pos") - pl.col("pos").mean()
    y_dev = pl.col("y") - pl.col("y").mean()
    return (
        last_k.group_by("person_id")
        .agg(
            k=pl.len(),
            slope=(x_dev * y_dev).sum() / (x_dev * x_dev).sum(),
            first=pl.col("harm").first(),
            last=pl.col("harm").last(),
        )
        .with_columns(
            escalating=(pl.col("k") >= config.escalation_min_incidents)
            & (pl.col("slope") > 0)
            & (pl.col("last") > pl.col("first"))
        )
        .select("person_id", "escalating")
    )


def _components(config: ScoringConfig) -> dict[str, pl.Expr]:
    """Each dimension scaled to 0..1: recency (halving), frequency, gravity, victims (capped)."""
    return {
        "serial": pl.col("victims") >= config.serial_victims,
        "r": pl.lit(0.5).pow(pl.col("recency_days") / config.recency_half_life_days),
        "f": pl.min_horizontal(pl.col("frequency"), pl.lit(config.frequency_cap))
        / config.frequency_cap,
        "g": pl.min_horizontal(
            pl.col("gravity").log1p() / math.log1p(config.gravity_cap_days), pl.lit(1.0)
        ),
        "v": pl.min_horizontal(pl.col("victims"), pl.lit(config.victims_cap)) / config.victims_cap,
    }


def _score(config: ScoringConfig) -> pl.Expr:
    """The weighted mean of the dimensions out of 100, plus escalation's weight, capped."""
    weights = (
        config.weight_recency,
        config.weight_frequency,
        config.weight_gravity,
        config.weight_victims,
    )
    weighted = (
        weights[0] * pl.col("r")
        + weights[1] * pl.col("f")
        + weights[2] * pl.col("g")
        + weights[3] * pl.col("v")
    )
    return pl.min_horizontal(
        100.0 * weighted / sum(weights)
        + pl.col("escalating").cast(pl.Float64) * config.weight_escalation,
        pl.lit(100.0),
    ).round(2)


def _band(config: ScoringConfig) -> pl.Expr:
    return (
        pl.when(pl.col("score") >= config.band_very_high)
        .then(pl.lit(Band.VERY_HIGH.value))
        .when(pl.col("score") >= config.band_high)
        .then(pl.lit(Band.HIGH.value))
        .when(pl.col("score") >= config.band_medium)
        .then(pl.lit(Band.MEDIUM.value))
        .otherwise(pl.lit(Band.STANDARD.value))
    )


def harm_breakdown(
    incidents: pl.DataFrame, person_ids: list[str], as_of: datetime, config: ScoringConfig
) -> dict[str, tuple[tuple[str, int, float], ...]]:
    """Per person: (offence subgroup, incidents, harm days) in the gravity window, worst first."""
    as_of = as_utc(as_of)
    lit_as_of = pl.lit(as_of).dt.convert_time_zone("UTC")
    grouped = (
        incidents.lazy()
        .filter(
            pl.col("person_id").is_in(person_ids)
            & (pl.col("occurred_at") < lit_as_of)
            & _window(as_of, config.gravity_window_days)
        )
        .group_by("person_id", "offence_group")
        .agg(count=pl.len(), harm=pl.col("harm").sum())
        .sort(
            ["person_id", "harm", "count", "offence_group"], descending=[False, True, True, False]
        )
        .collect()
    )
    out: dict[str, list[tuple[str, int, float]]] = {}
    for person, group, count, harm in grouped.iter_rows():
        out.setdefault(person, []).append((group, count, harm))
    return {person: tuple(rows) for person, rows in out.items()}


def explanations(
    incidents: pl.DataFrame, ranked: pl.DataFrame, as_of: datetime, config: ScoringConfig
) -> list[str]:
    """One plain-language explanation per row of ``ranked`` (in its order)."""
    breakdown = harm_breakdown(incidents, ranked["person_id"].to_list(), as_of, config)
    out = []
    for row in ranked.iter_rows(named=True):
        components = Components(
            person_id=row["person_id"],
            recency_days=row["recency_days"],
            frequency=row["frequency"],
            gravity=row["gravity"],
            victims=row["victims"],
            serial=row["serial"],
            escalating=row["escalating"],
            score=row["score"],
            domestic_in_window=row["domestic_in_window"],
            incidents_in_gravity_window=row["incidents"],
            harm_by_group=breakdown.get(row["person_id"], ()),
        )
        out.append(explain(components, config))
    return out


def ranking_table(
    incidents: pl.DataFrame,
    as_of: datetime,
    config: ScoringConfig,
    top: int | None = None,
    force: str | None = None,
) -> pl.DataFrame:
    """The ``rank,person_id,score,...,explanation`` table, nationally or for one force."""
    ranked = score_frame(incidents, as_of, config)
    if force is not None:
        ranked = ranked.filter(pl.col("force") == force).with_columns(rank=pl.col("force_rank"))
    if top is not None:
        ranked = ranked.head(top)
    return ranked.with_columns(
        explanation=pl.Series(explanations(incidents, ranked, as_of, config), dtype=pl.Utf8)
    )
