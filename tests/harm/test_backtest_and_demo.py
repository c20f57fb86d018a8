"""Backtest on the simulator, and the demo seed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from vigil.bootstrap import Container
from vigil.harm.backtest import auc, backtest
from vigil.harm.demo import seed
from vigil.harm.file_frame import resolved_frame
from vigil.harm.harm_index import default_index
from vigil.harm.importer import parse_incidents
from vigil.harm.matrix import forces_in_runs, matrix
from vigil.harm.simulate import SimulationSpec, simulate
from vigil.security.model import Principal, Role

ANALYST = Principal(id=1, name="analyst", role=Role.ANALYST)


def test_auc_counts_ties_as_half() -> None:
    assert auc(pl.Series([3.0, 2.0, 1.0]), pl.Series([True, False, False])) == 1.0
    assert auc(pl.Series([1.0, 1.0]), pl.Series([True, False])) == 0.5
    assert auc(pl.Series([1.0]), pl.Series([True])) is None


def test_a_few_percent_of_simulated_perpetrators_cause_most_harm() -> None:
    frame = simulate(SimulationSpec(perpetrators=5000, seed=3))
    harm = frame.with_columns(h=default_index().expression("offence", "offence_group"))
    per = harm.group_by("sim_person").agg(pl.col("h").sum()).sort("h", descending=True)
    top5 = per.head(per.height // 20)["h"].sum() / per["h"].sum()
    assert top5 > 0.6


def test_backtest_on_the_simulator_finds_next_years_harm() -> None:
    frame = simulate(SimulationSpec(perpetrators=5000, seed=3, end=date(2025, 12, 31)))
    as_of = datetime(2025, 1, 1, tzinfo=UTC)
    parsed = parse_incidents(frame.write_csv().encode(), datetime(2026, 6, 1, tzinfo=UTC))
    result = backtest(resolved_frame(parsed.rows, default_index()), as_of, tops=(50, 500))
    assert result.auc is not None
    assert result.auc > 0.65
    share_50, share_500 = result.shares
    assert share_50.share_of_ranked_harm > 0.3  # top 50 of ~2,000 ranked: over 30% of harm
    assert share_500.share_of_ranked_harm > share_50.share_of_ranked_harm


def test_demo_seed_gives_the_analyst_a_matrix(container: Container) -> None:
    run_id = seed(container)
    again = seed(container)
    assert again == run_id
    with container.uow() as uow:
        rows = matrix(uow, ANALYST, run_id, top=10)
        forces = forces_in_runs(uow, ANALYST, run_id)
    assert len(rows) == 10
    assert set(forces) <= {"WMP", "WAR", "STA", "WMC", "NOT", "LEI", "DER", "LIN", "NTH"}
    assert all(r.explanation for r in rows)
