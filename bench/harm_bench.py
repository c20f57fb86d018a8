"""Harm matrix benchmark: ~1,000,000 incidents by ~300,000 suspects.

    .venv/bin/python bench/harm_bench.py [--perpetrators 300000]

Each stage runs in its own process so its peak memory (max RSS) is its own:

* ``memory``  — parse + validate the CSV, resolve suspects and victims, score, rank, explain the
  top 1,000 (polars, nothing stored);
* ``stored``  — the same through the database: ``import_incidents`` into a fresh SQLite file
  (victims encrypted, identities and incidents written) and ``compute_run`` (read back, score,
  rank, store the top of the list), then an incremental import of 1,000 new incidents into the
  full store; CPU seconds are printed too, since a shared machine's load inflates wall time;
* ``polars``  — scoring and ranking alone on the resolved frame;
* ``pandas``  — a straightforward pandas implementation of the same scoring, checked equal.
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process so far: the shared machine's load inflates
    wall time, this shows the work itself."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stage_memory(work: Path) -> None:
    from vigil.harm.file_frame import resolved_frame
    from vigil.harm.harm_index import default_index
    from vigil.harm.importer import parse_incidents
    from vigil.harm.model import ScoringConfig
    from vigil.harm.scoring import ranking_table

    content = (work / "incidents.csv").read_bytes()
    start = time.perf_counter()
    parsed = parse_incidents(content, AS_OF)
    frame = resolved_frame(parsed.rows, default_index())
    ranked = ranking_table(frame, AS_OF, ScoringConfig(), top=1000)
    elapsed = time.perf_counter() - start
    frame.write_parquet(work / "resolved.parquet")
    print(
        f"memory\t{elapsed:.1f}\t{_peak_mb():.0f}\t{frame['person_id'].n_unique()}\t{ranked.height}"
    )


def stage_stored(work: Path) -> None:
    from vigil.bootstrap import build_container
    from vigil.db import migrate
    from vigil.harm.incident_import import import_incidents
    from vigil.harm.runs import compute_run
    from vigil.security.model import Principal, Role

    BENCH = Principal(id=0, name="bench", role=Role.ANALYST, is_machine=True)
    from vigil.settings import Environment, Settings, new_encryption_key_entry

    url = f"sqlite:///{work / 'bench.db'}"
    migrate.upgrade(url)
    container = build_container(
        Settings(
            environment=Environment.TEST,
            database_url=url,
            secret_key="b" * 40,
            field_encryption_keys=new_encryption_key_entry("b1"),
            log_level="WARNING",
        )
    )
    content = (work / "incidents.csv").read_bytes()
    start, cpu = time.perf_counter(), _cpu_s()
    with container.uow() as uow:
        report = import_incidents(uow, container.cipher, content, filename="b.csv", principal=BENCH)
        uow.commit()
    imported, imported_cpu = time.perf_counter() - start, _cpu_s() - cpu
    with container.uow() as uow:
        compute_run(uow, as_of=AS_OF, principal=BENCH)
        uow.commit()
    elapsed, elapsed_cpu = time.perf_counter() - start, _cpu_s() - cpu
    peak = _peak_mb()
    # Then a small file of new incidents into the full store (resolved against everything).
    more = (work / "more.csv").read_bytes()
    start, cpu = time.perf_counter(), _cpu_s()
    with container.uow() as uow:
        added = import_incidents(uow, container.cipher, more, filename="m.csv", principal=BENCH)
        uow.commit()
    assert added.added == more.count(b"\n") - 1, added.errors[:3]
    incremental = f"{time.perf_counter() - start:.1f} (CPU {_cpu_s() - cpu:.1f})"
    print(
        f"stored\t{elapsed:.1f}\t{peak:.0f}\t{report.suspects.persons}\t{imported:.1f}"
        f"\t{elapsed_cpu:.1f}\t{imported_cpu:.1f}\t{incremental}"
    )


def stage_polars(work: Path) -> None:
    from vigil.harm.model import ScoringConfig
    from vigil.harm.scoring import score_frame

    frame = pl.read_parquet(work / "resolved.parquet")
    start = time.perf_counter()
    ranked = score_frame(frame, AS_OF, ScoringConfig())
    elapsed = time.perf_counter() - start
    ranked.select("person_id", "score").write_parquet(work / "polars.parquet")
    print(f"polars\t{elapsed:.2f}\t{_peak_mb():.0f}\t{ranked.height}\t")


def pandas_score(frame: object) -> object:
    """The same RFGV rules, written the obvious pandas way (groupby + apply for escalation)."""
    import numpy as np
    import pandas as pd

    from vigil.harm.model import ScoringConfig

    c = ScoringConfig()
    df = frame
    assert isinstance(df, pd.DataFrame)
    as_of = pd.Timestamp(AS_OF.replace(tzinfo=None))
    df = df[
        (df.occurred_at < as_of) & (df.occurred_at >= as_of - pd.Timedelta(days=c.lookback_days))
    ]
    age = as_of - df.occurred_at
    in_f = age <= pd.Timedelta(days=c.frequency_window_days)
    in_g = age <= pd.Timedelta(days=c.gravity_window_days)
    in_v = age <= pd.Timedelta(days=c.victims_window_days)
    df = df.assign(f=in_f, g=df.harm.where(in_g, 0.0), v=df.victim_key.where(in_v))
    grouped = df.groupby("person_id")
    out = pd.DataFrame(
        {
            "last": grouped.occurred_at.max(),
            "frequency": grouped.f.sum(),
            "gravity": grouped.g.sum(),
            "victims": grouped.v.nunique(),
        }
    )

    def escalating(group: pd.DataFrame) -> bool:
        tail = group.sort_values("occurred_at").harm.to_numpy()[-c.escalation_incidents :]
        if len(tail) < c.escalation_min_incidents:
            return False
        x = np.arange(len(tail), dtype=float)
        y = np.log1p(tail)
        slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
        return bool(slope > 0 and tail[-1] > tail[0])

    out["escalating"] = grouped[["occurred_at", "harm"]].apply(escalating)
    out["recency_days"] = ((as_of - out["last"]).dt.total_seconds() // 86400).astype(int)
    r = 0.5 ** (out.recency_days / c.recency_half_life_days)
    f = out.frequency.clip(upper=c.frequency_cap) / c.frequency_cap
    g = (np.log1p(out.gravity) / math.log1p(c.gravity_cap_days)).clip(upper=1.0)
    v = out.victims.clip(upper=c.victims_cap) / c.victims_cap
    total = c.weight_recency + c.weight_frequency + c.weight_gravity + c.weight_victims
    base = (
        100
        * (
            c.weight_recency * r
            + c.weight_frequency * f
            + c.weight_gravity * g
            + c.weight_victims * v
        )
        / total
    )
    out["score"] = (base + out.escalating * c.weight_escalation).clip(upper=100).round(2)
    return out.reset_index().sort_values(
        ["score", "gravity", "frequency", "recency_days", "person_id"],
        ascending=[False, False, False, True, True],
    )


def stage_pandas(work: Path) -> None:
    import pandas as pd

    source = pl.read_parquet(work / "resolved.parquet")
    # Plain numpy columns (no pyarrow needed); times as naive UTC.
    frame = pd.DataFrame(
        {
            name: source[name].dt.replace_time_zone(None).to_numpy()
            if name == "occurred_at"
            else source[name].to_numpy()
            for name in source.columns
        }
    )
    start = time.perf_counter()
    ranked = pandas_score(frame)
    elapsed = time.perf_counter() - start
    assert isinstance(ranked, pd.DataFrame)
    polars_ranked = pl.read_parquet(work / "polars.parquet")
    same = (
        ranked["person_id"].tolist() == polars_ranked["person_id"].to_list()
        and (abs(ranked["score"].to_numpy() - polars_ranked["score"].to_numpy()) < 0.011).all()
    )
    print(
        f"pandas\t{elapsed:.2f}\t{_peak_mb():.0f}\t{len(ranked)}\t{'same' if same else 'DIFFERENT'}"
    )


def more_rows(frame: pl.DataFrame, n: int = 1000) -> pl.DataFrame:
    """New incidents (new references) by people already in the file: an incremental import."""
    return frame.sample(n, seed=3).with_columns(
        incident_ref=pl.lit("NEW-") + pl.col("incident_ref")
    )


STAGES = {
    "memory": stage_memory,
    "stored": stage_stored,
    "polars": stage_polars,
    "pandas": stage_pandas,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--perpetrators", type=int, default=300_000)
    parser.add_argument("--stage", choices=sorted(STAGES))
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    if args.stage:
        STAGES[args.stage](args.work)
        return
    from vigil.harm.simulate import SimulationSpec, simulate

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        frame = simulate(SimulationSpec(perpetrators=args.perpetrators, seed=1)).drop("sim_person")
        frame.write_csv(work / "incidents.csv")
        more_rows(frame).write_csv(work / "more.csv")
        print(f"{frame.height:,} incidents by {args.perpetrators:,} simulated perpetrators\n")
        rows = []
        for stage in ("memory", "polars", "pandas", "stored"):
            result = subprocess.run(
                [sys.executable, __file__, "--stage", stage, "--work", str(work)],
                capture_output=True,
                text=True,
                check=True,
            )
            fields = result.stdout.rstrip("\n").splitlines()[-1].split("\t")
            rows.append((fields + [""] * 8)[:8])
        print(f"{'stage':<48}{'seconds':>9}{'peak MB':>9}  notes")
        labels = {
            "memory": "import+resolution+scoring+ranking (in memory)",
            "stored": "import+resolution+scoring+ranking (SQLite)",
            "polars": "scoring+ranking alone, polars",
            "pandas": "scoring+ranking alone, pandas",
        }
        for stage, seconds, peak, count, note, cpu, import_cpu, incremental in rows:
            extra = f"{int(count):,} persons"
            if stage == "stored":
                extra += (
                    f"; import part {note} s; CPU {cpu} s (import {import_cpu} s);"
                    f" then 1,000 new incidents into the full store {incremental} s"
                )
            elif stage == "pandas":
                extra += f"; ranking {note} to polars"
            print(f"{labels[stage]:<48}{seconds:>9}{peak:>9}  {extra}")


if __name__ == "__main__":
    main()
