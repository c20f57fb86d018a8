"""Linkage quality of the harm matrix: the earlier hand-tuned rules against the Splink model.

    .venv/bin/python bench/harm_linkage.py              # quality table (markdown)
    .venv/bin/python bench/harm_linkage.py --train-bundled  # rewrites harm/linkage_model.json

Data sets: records written by "another hand" (``tests/harm/other_hand.py``, a generator that
shares nothing with the simulator, with ten planted serial perpetrators and namesakes) and the
simulator itself. Measured on suspects' identities (distinct id + name + date of birth as
written), against the generator's truth:

* pairwise: precision, recall and F1 of "these two records are the same person";
* clusters: a true person counts as found when one resolved person holds exactly his records
  (precision over resolved persons, recall over true persons, F1);
* planted: how many of the ten planted men have all their records joined and are ranked where their
  full history puts them; police ids merged: resolved persons holding two different ids.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harm.other_hand import Spec, csv_bytes, generate  # noqa: E402

from vigil.harm.file_frame import resolved_frame  # noqa: E402
from vigil.harm.harm_index import default_index  # noqa: E402
from vigil.harm.importer import parse_incidents  # noqa: E402
from vigil.harm.model import ScoringConfig  # noqa: E402
from vigil.harm.resolution import ResolutionStats  # noqa: E402
from vigil.harm.scoring import score_frame  # noqa: E402
from vigil.harm.simulate import SimulationSpec, simulate  # noqa: E402

AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
Method = Literal["rules", "splink"]


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _pairs(groups: pl.DataFrame, key: str) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for members in groups.group_by(key).agg(pl.col("ident"))["ident"].to_list():
        members = sorted(members)
        out.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    return out


def measure(generated: pl.DataFrame, method: Method) -> dict[str, float | int | str]:
    parsed = parse_incidents(csv_bytes(generated), NOW)
    stats = [ResolutionStats(), ResolutionStats()]
    start = time.perf_counter()
    frame = resolved_frame(
        parsed.rows, default_index(), stats, method=method, keep=("incident_ref",)
    )
    seconds = time.perf_counter() - start
    truth = generated.select("incident_ref", "truth", "planted", "suspect_id")
    rows = parsed.rows.select("incident_ref", "suspect_id", "suspect_name", "s_dob").join(
        frame.select("incident_ref", "person_id"), on="incident_ref"
    )
    rows = rows.join(truth.drop("suspect_id"), on="incident_ref")
    idents = (
        rows.group_by("suspect_id", "suspect_name", "s_dob")
        .agg(truth=pl.col("truth").first(), person_id=pl.col("person_id").first())
        .with_row_index("ident")
    )
    true_pairs = _pairs(idents, "truth")
    found_pairs = _pairs(idents, "person_id")
    tp = len(true_pairs & found_pairs)
    p_pair = tp / len(found_pairs) if found_pairs else 1.0
    r_pair = tp / len(true_pairs) if true_pairs else 1.0
    true_sets = {frozenset(m) for m in idents.group_by("truth").agg("ident")["ident"].to_list()}
    found_sets = {
        frozenset(m) for m in idents.group_by("person_id").agg("ident")["ident"].to_list()
    }
    exact = len(true_sets & found_sets)
    p_cl, r_cl = exact / len(found_sets), exact / len(true_sets)
    merged_ids = (
        rows.filter(pl.col("suspect_id") != "")
        .group_by("person_id")
        .agg(n=pl.col("suspect_id").str.to_uppercase().n_unique())
        .filter(pl.col("n") > 1)
        .height
    )
    # Planted men: all records in one person, and ranked where their full history puts them.
    config = ScoringConfig()
    by_truth = score_frame(
        frame.join(truth.select("incident_ref", "truth"), on="incident_ref")
        .with_columns(person_id=pl.col("truth"))
        .drop("truth", "incident_ref"),
        AS_OF,
        config,
    ).select("person_id", "score", "rank")
    resolved_rank = score_frame(frame.drop("incident_ref"), AS_OF, config).select(
        "person_id", "score", "rank"
    )
    planted = rows.filter(pl.col("planted") == "true")
    joined_and_ranked = 0
    for who, persons in planted.group_by("truth").agg(pl.col("person_id").unique()).iter_rows():
        if len(persons) != 1:
            continue
        # Ranked where his full history puts him: the same score, nationally as high (the rank
        # itself also moves when *other* people are joined differently).
        want = by_truth.filter(pl.col("person_id") == who).select("score", "rank").row(0)
        got = resolved_rank.filter(pl.col("person_id") == persons[0]).select("score", "rank")
        joined_and_ranked += int(got.height == 1 and got.row(0)[0] == want[0])
    return {
        "method": method,
        "identities": idents.height,
        "pair_p": p_pair,
        "pair_r": r_pair,
        "pair_f1": _f1(p_pair, r_pair),
        "cluster_p": p_cl,
        "cluster_r": r_cl,
        "cluster_f1": _f1(p_cl, r_cl),
        "planted_ok": joined_and_ranked,
        "planted": planted["truth"].n_unique(),
        "ids_merged": merged_ids,
        "seconds": seconds,
        "trained": str(stats[0].model_trained),
    }


def _simulated(perpetrators: int, seed: int) -> pl.DataFrame:
    sim = simulate(SimulationSpec(perpetrators=perpetrators, seed=seed))
    return sim.with_columns(truth=pl.col("sim_person"), planted=pl.lit("false"))


def train_bundled() -> None:
    """Train on the simulator (20,000 perpetrators, seed 7) and write the bundled model."""
    parsed = parse_incidents(csv_bytes(_simulated(20_000, 7)), NOW)
    stats = [ResolutionStats(), ResolutionStats()]
    resolved_frame(parsed.rows, default_index(), stats)
    if not stats[0].model_trained or stats[0].model is None:
        raise SystemExit("the simulated load was too small to train on")
    target = ROOT / "src" / "vigil" / "harm" / "linkage_model.json"
    bundle = {"records": stats[0].model_records, "model": stats[0].model}
    target.write_text(json.dumps(bundle, indent=1, sort_keys=True) + "\n")
    print(f"wrote {target} ({stats[0].identities} identities)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-bundled", action="store_true")
    parser.add_argument("--persons", type=int, default=8_000)
    args = parser.parse_args()
    if args.train_bundled:
        train_bundled()
        return
    sets = {
        f"other hand ({args.persons} persons, seed 1978)": generate(Spec(persons=args.persons)),
        f"simulator ({args.persons} perpetrators, seed 11)": _simulated(args.persons, 11),
    }
    print(
        "| data | method | identities | pairwise P / R / F1 | cluster P / R / F1 "
        "| planted joined & ranked | police ids merged | seconds |"
    )
    print("|---|---|---:|---|---|---|---:|---:|")
    for name, data in sets.items():
        for method in ("rules", "splink"):
            m = measure(data, method)  # type: ignore[arg-type]
            label = "hand-tuned rules" if method == "rules" else "Splink"
            if method == "splink":
                label += " (trained on this data)" if m["trained"] == "True" else " (bundled)"
            print(
                f"| {name} | {label} | {m['identities']:,} "
                f"| {m['pair_p']:.3f} / {m['pair_r']:.3f} / {m['pair_f1']:.3f} "
                f"| {m['cluster_p']:.3f} / {m['cluster_r']:.3f} / {m['cluster_f1']:.3f} "
                f"| {m['planted_ok']} of {m['planted']} | {m['ids_merged']} "
                f"| {m['seconds']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
