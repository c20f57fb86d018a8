"""Probabilistic record linkage with Splink (Fellegi–Sunter), DuckDB in process by default.

Splink is the record-linkage library built and maintained by the Ministry of Justice's analytical
services. Each pair of records that share a *blocking* key is compared field by field; each
comparison lands on one level (exact, nickname, initial, close spelling, …) and each level carries a
match weight log2(m/u): m is how often true matches land there, u how often non-matches do. The sum
of the weights plus the prior gives the match probability. The parameters are estimated from the
data itself — u by random sampling of record pairs (almost all random pairs are non-matches), m by
expectation maximisation on blocked pairs — so nothing here is a hand-tuned threshold except the
final probability at which a link is made.

The model (settings + trained parameters) is plain JSON: it is stored with every resolution, can be
loaded again to reproduce or explain a link, and runs unchanged on Splink's Spark back end
(``docs/harm-matrix.md``, "Beyond one machine").
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jellyfish
import polars as pl

from vigil.harm.linkage_settings import _splink, settings
from vigil.harm.names import nickname_folded

#: A pair is joined at or above this match probability (and with a date of birth that agrees at
#: least in two of its three parts: a name alone never joins two records).
LINK_PROBABILITY = 0.95
#: Below this many distinct records the bundled model is used instead of training on the data:
#: expectation maximisation needs enough true pairs to learn from.
MIN_TRAINING_RECORDS = 5_000
SEED = 42
U_MAX_PAIRS = 200_000
#: Expectation maximisation runs on at most about this many blocked pairs (a deterministic,
#: hash-based sample of them), so training time does not grow with the load.
EM_MAX_PAIRS = 150_000
DEFAULT_MODEL = "linkage_model.json"
#: After training, a level the training data never showed (m near 0) would count as strong
#: evidence *against* a match whenever it occurs; its m is floored here instead.
M_FLOOR = 0.01


# Comparison levels of the date of birth at which a link may be made (exact, transposed, one off).
_DOB_LINKABLE = ("exact", "day and month transposed", "one field differs")


@dataclass(frozen=True)
class LinkEvidence:
    """Why two records were joined: the probability and each comparison's level and weight."""

    probability: float
    match_weight: float
    prior_weight: float
    weights: tuple[tuple[str, str, float], ...]  # (comparison, level label, match weight)

    @classmethod
    def from_json(cls, text: str) -> LinkEvidence:
        data = json.loads(text)
        return cls(
            probability=float(data["probability"]),
            match_weight=float(data["match_weight"]),
            prior_weight=float(data["prior_weight"]),
            weights=tuple(
                (str(w["comparison"]), str(w["level"]), float(w["weight"])) for w in data["weights"]
            ),
        )


COMPARISON_NAMES = {
    "forename": "Forename",
    "surname": "Surname",
    "dob": "Date of birth",
    "shared_victims": "Victims",
    "force": "Force area",
}


@dataclass(frozen=True)
class WaterfallStep:
    """One bar of the waterfall: the weight a comparison adds and the running total after it."""

    label: str
    level: str
    weight: float
    start: float
    end: float


def waterfall(evidence: LinkEvidence) -> list[WaterfallStep]:
    """The prior, then each comparison's match weight, as running totals (Splink's waterfall)."""
    steps = [
        WaterfallStep(
            "Before comparing",
            "how rare it is that two records are the same person",
            evidence.prior_weight,
            0.0,
            evidence.prior_weight,
        )
    ]
    total = evidence.prior_weight
    for name, level, weight in evidence.weights:
        steps.append(
            WaterfallStep(COMPARISON_NAMES.get(name, name), level, weight, total, total + weight)
        )
        total += weight
    return steps


@dataclass
class LinkageRun:
    """What one linkage did: the model it used (trained here or bundled) and its scored pairs."""

    model: dict[str, Any]
    trained: bool
    pairs: pl.DataFrame  # left, right (unique ids), probability, evidence (JSON)
    records: int = 0  # distinct records compared (one per written name and date of birth)
    candidate_pairs: int = 0


def _squash(expr: pl.Expr) -> pl.Expr:
    """Doubled letters collapsed, hyphens and spaces dropped ("Eddwards" = "Edwards")."""
    folded = expr.str.replace_all(r"[\s-]", "")
    for letter in "abcdefghijklmnopqrstuvwxyz":
        folded = folded.str.replace_all(letter + "+", letter)
    return folded


def features(nodes: pl.DataFrame) -> pl.DataFrame:
    """Comparison columns for Splink from ``unique_id, given, family, dob`` (+ optional
    ``family_parts``, ``victims``, ``forces`` lists)."""
    tokens = pl.concat([nodes["given"], nodes["family"]]).unique().to_list()
    codes = {t: jellyfish.nysiis(t) if t else "" for t in tokens}
    empty_list = pl.lit(None, dtype=pl.List(pl.Utf8))
    frame = nodes.with_columns(
        given=pl.when(pl.col("given") == "").then(None).otherwise("given"),
        family=pl.when(pl.col("family") == "").then(None).otherwise("family"),
    )
    for name in ("family_parts", "victims", "forces"):
        if name not in frame.columns:
            frame = frame.with_columns(empty_list.alias(name))
    return frame.select(
        unique_id=pl.col("unique_id").cast(pl.Int64),
        given="given",
        given_canon=nickname_folded("given"),
        given_squash=_squash(pl.col("given")),
        initial=pl.col("given").str.slice(0, 1),
        family="family",
        family_squash=_squash(pl.col("family")),
        family_parts=pl.when(pl.col("family_parts").list.len() > 0)
        .then("family_parts")
        .otherwise(pl.concat_list(pl.col("family").fill_null(""))),
        initials=pl.concat_str(
            [
                pl.min_horizontal(
                    pl.col("given").str.slice(0, 1).fill_null(""),
                    pl.col("family").str.slice(0, 1).fill_null(""),
                ),
                pl.max_horizontal(
                    pl.col("given").str.slice(0, 1).fill_null(""),
                    pl.col("family").str.slice(0, 1).fill_null(""),
                ),
            ]
        ),
        given_code=pl.col("given").replace_strict(codes, default="", return_dtype=pl.Utf8),
        family_code=pl.col("family").replace_strict(codes, default="", return_dtype=pl.Utf8),
        dob=pl.col("dob").dt.strftime("%Y-%m-%d"),
        dob_dm=pl.concat_str(
            [
                pl.col("dob").dt.year().cast(pl.Utf8),
                pl.min_horizontal(pl.col("dob").dt.month(), pl.col("dob").dt.day()).cast(pl.Utf8),
                pl.max_horizontal(pl.col("dob").dt.month(), pl.col("dob").dt.day()).cast(pl.Utf8),
            ],
            separator="-",
        ),
        year=pl.col("dob").dt.year().cast(pl.Int32),
        month=pl.col("dob").dt.month().cast(pl.Int32),
        day=pl.col("dob").dt.day().cast(pl.Int32),
        victims=pl.when(pl.col("victims").list.len() > 0).then("victims").otherwise(None),
        forces=pl.when(pl.col("forces").list.len() > 0).then("forces").otherwise(None),
    )


def bundled_model_json() -> dict[str, Any]:
    """The model trained on the simulator (``bench/harm_linkage.py --train-bundled``), for a load
    too small to train on. Its prior (the probability that two random records match) is the
    training load's, kept as it is: a record's links do not depend on how small the file is.
    """
    text = resources.files("vigil.harm").joinpath(DEFAULT_MODEL).read_text(encoding="utf-8")
    model: dict[str, Any] = json.loads(text)["model"]
    return model


def _settle(model: dict[str, Any]) -> dict[str, Any]:
    """Floor unseen levels' m; round the parameters to 9 significant digits and drop the random
    linker id, so the same data give the same model file (DuckDB's parallel sums differ in the
    last bits from run to run)."""
    model.pop("linker_uid", None)
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                if key in level:
                    level[key] = float(f"{level[key]:.9g}")
            if level.get("is_null_level") or level["sql_condition"] == "ELSE":
                continue
            if "m_probability" in level and level["m_probability"] < M_FLOOR:
                level["m_probability"] = M_FLOOR
    prior = model["probability_two_random_records_match"]
    model["probability_two_random_records_match"] = float(f"{prior:.9g}")
    return model


def _linker(frame: pl.DataFrame, model: Any) -> Any:
    splink = _splink()
    from splink import DuckDBAPI

    db = DuckDBAPI()
    # DuckDB takes Arrow directly; no pandas round trip.
    table = db.register(frame.to_arrow(), table_name="identities")
    return splink.Linker(table, model, log_level=logging.ERROR)


def trained_model_json(frame: pl.DataFrame, *, seed: int = SEED) -> dict[str, Any]:
    """Estimate the model on ``features`` output: prior from a strict rule, u by random sampling,
    m by expectation maximisation on two blocking rules (each trains the fields it does not fix).
    """
    splink = _splink()
    block_on = splink.block_on
    linker = _linker(frame, settings())
    linker.training.estimate_probability_two_random_records_match(
        [block_on("dob", "family_squash", "initial")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("dob"), max_pairs=EM_MAX_PAIRS, record_sample_proportion=0.1
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_canon", "family_squash"),
        max_pairs=EM_MAX_PAIRS,
        record_sample_proportion=0.1,
    )
    return _settle(linker.misc.save_model_to_json())


def dialect_model_json(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The same model for another Splink back end (``"spark"``): the comparisons and blocking
    rules rendered in that back end's SQL, with the stored model's trained parameters."""
    target: dict[str, Any] = settings(
        float(model["probability_two_random_records_match"])
    ).create_settings_dict(dialect)
    trained = {
        (c["output_column_name"], position): level
        for c in model["comparisons"]
        for position, level in enumerate(c["comparison_levels"])
    }
    for comparison in target["comparisons"]:
        for position, level in enumerate(comparison["comparison_levels"]):
            source = trained[(comparison["output_column_name"], position)]
            for key in ("m_probability", "u_probability"):
                if key in source:
                    level[key] = source[key]
    return target


def _levels(model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """comparison → gamma value → level label, as Splink numbers them (null −1, then n−1 … 0)."""
    out: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        mapping = {-1: "missing"}
        for position, level in enumerate(non_null):
            mapping[len(non_null) - 1 - position] = str(
                level.get("label_for_charts") or level["sql_condition"]
            )
        out[comparison["output_column_name"]] = mapping
    return out


def predict(frame: pl.DataFrame, model: dict[str, Any]) -> tuple[pl.DataFrame, int]:
    """Score every blocked pair; keep those at or above ``LINK_PROBABILITY`` whose dates of birth
    agree in at least two parts. Returns (left, right, probability, evidence JSON) and the number
    of candidate pairs compared."""
    schema = {"left": pl.Int64, "right": pl.Int64, "probability": pl.Float64, "evidence": pl.Utf8}
    if frame.height < 2:
        return pl.DataFrame(schema=schema), 0
    linker = _linker(frame, model)
    scored = linker.inference.predict()
    db = linker._db_api  # the same in-process DuckDB connection
    candidates = int(
        db._execute_sql_against_backend(
            f"SELECT count(*) FROM {scored.physical_name}"  # noqa: S608 - Splink's own table
        ).fetchall()[0][0]
    )
    levels = _levels(model)
    names = list(levels)
    dob_codes = [g for g, label in levels["dob"].items() if label in _DOB_LINKABLE]
    wanted = ", ".join(
        ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]
        + [f"gamma_{n}" for n in names]
        + [f"mw_{n}" for n in names]
    )
    kept = db._execute_sql_against_backend(
        f"SELECT {wanted} FROM {scored.physical_name} "  # noqa: S608 - Splink's own table
        f"WHERE match_probability >= {LINK_PROBABILITY} "
        f"AND gamma_dob IN ({', '.join(str(c) for c in dob_codes)})"
    ).pl()
    if kept.height == 0:
        return pl.DataFrame(schema=schema), candidates
    prior = float(model["probability_two_random_records_match"])
    prior_weight = round(math.log2(prior / (1 - prior)), 3)
    # The evidence JSON is built column-wise (tens of thousands of links in a national load).
    weights = pl.concat_list(
        [
            pl.struct(
                comparison=pl.lit(n),
                level=pl.col(f"gamma_{n}").replace_strict(
                    levels[n], default="?", return_dtype=pl.Utf8
                ),
                weight=pl.col(f"mw_{n}").cast(pl.Float64).round(3),
            )
            for n in names
        ]
    )
    out = kept.select(
        left=pl.col("unique_id_l").cast(pl.Int64),
        right=pl.col("unique_id_r").cast(pl.Int64),
        probability=pl.col("match_probability").cast(pl.Float64).round(6),
        evidence=pl.struct(
            probability=pl.col("match_probability").cast(pl.Float64).round(6),
            match_weight=pl.col("match_weight").cast(pl.Float64).round(3),
            prior_weight=pl.lit(prior_weight),
            weights=weights,
        ).struct.json_encode(),
    )
    return out, candidates


def link(
    nodes: pl.DataFrame,
    *,
    model: dict[str, Any] | None = None,
    train_on_data: bool = True,
    seed: int = SEED,
) -> LinkageRun:
    """Train (enough records, no model given) or take the bundled model, then predict."""
    frame = features(nodes)
    trained = False
    if model is None:
        if train_on_data and frame.height >= MIN_TRAINING_RECORDS:
            model, trained = trained_model_json(frame, seed=seed), True
        else:
            model = bundled_model_json()
    pairs, candidates = predict(frame, model)
    return LinkageRun(
        model=model, trained=trained, pairs=pairs, records=frame.height, candidate_pairs=candidates
    )
