"""Backtest: score on incidents before a date, then see who caused harm in the next 12 months.

Two measures, both on the same incident frame the matrix uses:

* **share of harm by the top N** — harm days caused in the follow-up window by the N highest
  ranked perpetrators, over all harm caused in that window (by anyone, including people with no
  history before the date, whom no ranking can find), and over harm caused by ranked people only;
* **AUC for "caused further harm"** — among ranked perpetrators, the probability that one who
  went on to cause harm is ranked above one who did not (0.5 is chance, 1.0 perfect).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from vigil.harm.model import ScoringConfig
from vigil.harm.scoring import as_utc, score_frame

DEFAULT_TOPS = (10, 100, 1000)


@dataclass(frozen=True)
class TopShare:
    top: int
    share_of_all_harm: float
    share_of_ranked_harm: float


@dataclass(frozen=True)
class BacktestResult:
    as_of: datetime
    follow_up_days: int
    ranked: int
    reoffended: int
    future_harm_all: float
    future_harm_ranked: float
    auc: float | None
    shares: tuple[TopShare, ...]


def auc(scores: pl.Series, labels: pl.Series) -> float | None:
    """Mann–Whitney AUC with ties counted half; None when one class is empty."""
    positives = int(labels.sum())
    negatives = labels.len() - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = scores.rank("average")
    rank_sum = float(ranks.filter(labels).sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def backtest(
    incidents: pl.DataFrame,
    as_of: datetime,
    config: ScoringConfig | None = None,
    *,
    tops: tuple[int, ...] = DEFAULT_TOPS,
    follow_up_days: int = 365,
) -> BacktestResult:
    config = config or ScoringConfig()
    as_of = as_utc(as_of)
    ranked = score_frame(incidents, as_of, config)
    end = as_of + timedelta(days=follow_up_days)
    future = (
        incidents.filter(
            (pl.col("occurred_at") >= pl.lit(as_of).dt.convert_time_zone("UTC"))
            & (pl.col("occurred_at") < pl.lit(end).dt.convert_time_zone("UTC"))
        )
        .group_by("person_id")
        .agg(future_harm=pl.col("harm").sum())
    )
    total = float(future["future_harm"].sum() or 0.0)
    joined = (
        ranked.select("rank", "person_id", "score")
        .join(future, on="person_id", how="left")
        .with_columns(pl.col("future_harm").fill_null(0.0))
        .sort("rank")
    )
    ranked_total = float(joined["future_harm"].sum() or 0.0)
    shares = []
    for top in tops:
        caught = float(joined.head(top)["future_harm"].sum() or 0.0)
        shares.append(
            TopShare(
                top,
                caught / total if total else 0.0,
                caught / ranked_total if ranked_total else 0.0,
            )
        )
    labels = joined["future_harm"] > 0
    return BacktestResult(
        as_of=as_of,
        follow_up_days=follow_up_days,
        ranked=joined.height,
        reoffended=int(labels.sum()),
        future_harm_all=total,
        future_harm_ranked=ranked_total,
        auc=auc(joined["score"], labels),
        shares=tuple(shares),
    )
