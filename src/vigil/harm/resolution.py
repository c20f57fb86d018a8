"""Who is who: join records of the same suspect (or victim) into one person, with reasons.

Records carry an id (a PNC or force person id) or only a name and date of birth, typed by
different officers: misspelt, first and last name swapped, a nickname, an initial, day and month
transposed. Resolution runs in memory over identities (distinct id + name + date of birth):

1. the same id is the same person;
2. the same canonical name (nicknames mapped to one given name) and the same date of birth is the
   same person;
3. otherwise a probabilistic model (Splink, ``linkage.py``) compares every pair of records that
   share a blocking key, field by field, and joins pairs whose match probability reaches the
   threshold. Each such link keeps its probability and the match weight of each comparison, so the
   analyst can see why. ``method="rules"`` keeps the earlier hand-tuned rule (Jaro–Winkler on each
   name, a date-of-birth rule, fixed thresholds) for comparison in the quality benchmark.

Links are made best first and never join two different ids (two police ids are two people unless
an analyst merges them). An analyst's merge forces a join; a split keeps an identity apart from
every automatic link. Each identity keeps the reason and score of the link that joined it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from vigil.harm import clusters, linkage
from vigil.harm.clusters import Edge
from vigil.harm.model import LINK_REASON_CODES, LinkReason, dob_similarity
from vigil.harm.names import nickname_folded, phonetic, token_similarity

NAME_THRESHOLD = 0.85
LINK_THRESHOLD = 0.88
MAX_BLOCK = 60
SWAP_PENALTY = 0.02


@dataclass(frozen=True)
class IdentityRecord:
    """One distinct way a person was written down."""

    id: int
    source_id: str | None
    given: str
    family: str
    dob: date | None


@dataclass(frozen=True)
class Resolved:
    id: int
    person_key: str
    reason: LinkReason
    score: float
    linked_to: int | None
    evidence: str | None = None


@dataclass
class ResolutionStats:
    identities: int = 0
    persons: int = 0
    candidate_pairs: int = 0
    fuzzy_links: int = 0
    oversized_blocks: int = 0
    conflicts_refused: int = 0
    #: The linkage model used (Splink settings and parameters) and whether it was trained on
    #: these records (else the bundled model was used).
    model: dict[str, Any] | None = None
    model_trained: bool = False
    model_records: int = 0


def name_similarity(a: IdentityRecord, b: IdentityRecord) -> tuple[float, bool]:
    """(similarity, swapped): each token compared, in the written order or swapped."""
    direct = min(token_similarity(a.given, b.given), token_similarity(a.family, b.family))
    swapped = min(token_similarity(a.given, b.family), token_similarity(a.family, b.given))
    swapped -= SWAP_PENALTY
    return (swapped, True) if swapped > direct else (direct, False)


def pair_score(a: IdentityRecord, b: IdentityRecord) -> tuple[float, str]:
    """Combined score 0..1 and the words saying why."""
    name, swapped = name_similarity(a, b)
    dob, dob_words = dob_similarity(a.dob, b.dob)
    if name < NAME_THRESHOLD or dob < 0.8:
        return 0.0, "names or dates of birth differ"
    words = ["names swapped" if swapped else "similar names", dob_words]
    return round(0.6 * name + 0.4 * dob, 4), ", ".join(words)


def _candidate_pairs(nodes: pl.DataFrame, stats: ResolutionStats) -> pl.DataFrame:
    """(left, right) row positions of nodes sharing a blocking key, each pair once."""
    if nodes.height < 2:
        return pl.DataFrame(schema={"left": pl.Int64, "right": pl.Int64})
    dm = pl.concat_str(
        [
            pl.min_horizontal("day", "month").cast(pl.Utf8),
            pl.max_horizontal("day", "month").cast(pl.Utf8),
        ],
        separator="-",
    )
    ndob = pl.concat_str([pl.col("year").cast(pl.Utf8), dm], separator="-")
    both = pl.concat_str(
        [pl.min_horizontal("pg", "pf"), pl.max_horizontal("pg", "pf")], separator="+"
    )
    keys = pl.concat(
        [
            nodes.select(
                "pos", key=pl.concat_str([pl.lit("d"), ndob, pl.col("pg")], separator="|")
            ),
            nodes.select(
                "pos", key=pl.concat_str([pl.lit("d"), ndob, pl.col("pf")], separator="|")
            ),
            nodes.select(
                "pos",
                key=pl.concat_str([pl.lit("y"), pl.col("year").cast(pl.Utf8), both], separator="|"),
            ),
        ]
    ).unique()
    sizes = keys.group_by("key").agg(n=pl.len())
    stats.oversized_blocks = sizes.filter(pl.col("n") > MAX_BLOCK).height
    usable = sizes.filter((pl.col("n") >= 2) & (pl.col("n") <= MAX_BLOCK)).select("key")
    blocked = keys.join(usable, on="key")
    pairs = (
        blocked.join(blocked, on="key", suffix="_r")
        .filter(pl.col("pos") < pl.col("pos_r"))
        .select(left=pl.col("pos"), right=pl.col("pos_r"))
        .unique()
    )
    stats.candidate_pairs = pairs.height
    return pairs


def _token_similarity(a: str, b: str, ja: str, jb: str, jw: pl.Series) -> pl.Expr:
    return (
        pl.when((pl.col(a) == pl.col(b)) & (pl.col(a) != ""))
        .then(1.0)
        .when((pl.col(a) == "") | (pl.col(b) == ""))
        .then(0.0)
        .when(pl.col(ja) == pl.col(jb))
        .then(pl.max_horizontal(pl.lit(jw), pl.lit(0.9)))
        .otherwise(pl.lit(jw))
    )


def _score_pairs(nodes: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Vectorised ``pair_score``: (left, right, score) of candidate pairs above the threshold."""
    cols = ["pos", "cg", "cf", "pg", "pf", "year", "month", "day"]
    side = nodes.select(cols)
    joined = pairs.join(side, left_on="left", right_on="pos").join(
        side.rename({c: f"{c}_r" for c in cols}), left_on="right", right_on="pos_r"
    )
    if joined.height == 0:
        return pl.DataFrame(schema={"left": pl.Int64, "right": pl.Int64, "score": pl.Float64})

    def jw(a: str, b: str) -> pl.Series:
        values = process.cpdist(
            joined[a].to_list(), joined[b].to_list(), scorer=JaroWinkler.normalized_similarity
        )
        return pl.Series(values, dtype=pl.Float64)

    sims = joined.with_columns(
        gg=_token_similarity("cg", "cg_r", "pg", "pg_r", jw("cg", "cg_r")),
        ff=_token_similarity("cf", "cf_r", "pf", "pf_r", jw("cf", "cf_r")),
        gf=_token_similarity("cg", "cf_r", "pg", "pf_r", jw("cg", "cf_r")),
        fg=_token_similarity("cf", "cg_r", "pf", "pg_r", jw("cf", "cg_r")),
    ).with_columns(
        name=pl.max_horizontal(
            pl.min_horizontal("gg", "ff"), pl.min_horizontal("gf", "fg") - SWAP_PENALTY
        ),
        dob=pl.when(
            (pl.col("year") == pl.col("year_r"))
            & (pl.col("month") == pl.col("month_r"))
            & (pl.col("day") == pl.col("day_r"))
        )
        .then(1.0)
        .when(
            (pl.col("year") == pl.col("year_r"))
            & (pl.col("month") == pl.col("day_r"))
            & (pl.col("day") == pl.col("month_r"))
        )
        .then(0.9)
        .when(
            (pl.col("year") == pl.col("year_r")).cast(pl.Int32)
            + (pl.col("month") == pl.col("month_r")).cast(pl.Int32)
            + (pl.col("day") == pl.col("day_r")).cast(pl.Int32)
            == 2
        )
        .then(0.8)
        .otherwise(0.0),
    )
    return (
        sims.filter((pl.col("name") >= NAME_THRESHOLD) & (pl.col("dob") >= 0.8))
        .select("left", "right", score=(0.6 * pl.col("name") + 0.4 * pl.col("dob")).round(4))
        .filter(pl.col("score") >= LINK_THRESHOLD)
    )


def _rule_edges(dated: pl.DataFrame, stats: ResolutionStats) -> list[Edge]:
    """The earlier hand-tuned rule, best first (kept to measure the model against)."""
    tokens = pl.concat([dated["cg"], dated["cf"]]).unique().to_list()
    codes = {t: phonetic(t) for t in tokens}
    nodes = (
        dated.group_by("cg", "cf", "dob")
        .agg(pos=pl.col("pos").min())
        .with_columns(
            pg=pl.col("cg").replace_strict(codes, return_dtype=pl.Utf8),
            pf=pl.col("cf").replace_strict(codes, return_dtype=pl.Utf8),
            year=pl.col("dob").dt.year().cast(pl.Int32),
            month=pl.col("dob").dt.month().cast(pl.Int32),
            day=pl.col("dob").dt.day().cast(pl.Int32),
        )
    )
    scored = _score_pairs(nodes, _candidate_pairs(nodes, stats)).sort(
        ["score", "left", "right"], descending=[True, False, False]
    )
    code = LINK_REASON_CODES.index(LinkReason.FUZZY_NAME_DOB)
    return [
        (a, b, code, sc, False, None)
        for a, b, sc in zip(
            scored["left"].to_list(),
            scored["right"].to_list(),
            scored["score"].to_list(),
            strict=True,
        )
    ]


def _splink_edges(
    dated: pl.DataFrame, stats: ResolutionStats, model: dict[str, Any] | None, train: bool
) -> list[Edge]:
    """Splink's links, most probable first, each with its evidence."""
    # One node per distinct written name and date of birth (the nickname as written, so the
    # model sees "Bob" against "Robert"); a node's victims and forces are its records' together.
    aggregates: list[pl.Expr] = [pl.col("pos").min()]
    for name in ("family_parts", "victims", "forces"):
        if name in dated.columns:
            aggregates.append(
                pl.col(name).list.explode(keep_nulls=False, empty_as_null=False).unique().sort()
            )
    nodes = dated.group_by("given", "family", "dob").agg(aggregates).rename({"pos": "unique_id"})
    run = linkage.link(nodes.sort("unique_id"), model=model, train_on_data=train)
    stats.candidate_pairs = run.candidate_pairs
    stats.model, stats.model_trained, stats.model_records = run.model, run.trained, run.records
    pairs = run.pairs.sort(["probability", "left", "right"], descending=[True, False, False])
    code = LINK_REASON_CODES.index(LinkReason.PROBABLE_MATCH)
    return [
        (a, b, code, p, False, why)
        for a, b, p, why in pairs.select("left", "right", "probability", "evidence").iter_rows()
    ]


def resolve_frame(
    frame: pl.DataFrame,
    *,
    merges: Sequence[tuple[int, int]] = (),
    splits: frozenset[int] = frozenset(),
    prefix: str = "HX",
    stats: ResolutionStats | None = None,
    method: Literal["splink", "rules"] = "splink",
    model: dict[str, Any] | None = None,
    train: bool = True,
) -> pl.DataFrame:
    """Cluster identities (``id, source_id, given, family, dob``, optionally ``family_parts``,
    ``victims`` and ``forces`` lists) into persons.

    Returns ``id, person_key, reason, score, linked_to, evidence`` (the JSON ``LinkEvidence`` of a
    probabilistic link, else null). ``merges``/``splits`` are the analysts' decisions (identity
    ids); ``model`` a stored Splink model to apply instead of training or the bundled one;
    ``train=False`` takes the bundled model even for a large load.
    """
    stats = stats if stats is not None else ResolutionStats()
    stats.identities = frame.height
    if frame.height == 0:
        return pl.DataFrame(schema=_OUT_SCHEMA)
    recs = _prepared(frame, splits)
    free = recs.filter(~pl.col("is_split"))
    dated = free.filter(pl.col("dob").is_not_null() & (pl.col("family") != ""))
    edges = _decided_edges(recs, merges) + _exact_edges(free, dated)
    if method == "rules":
        edges.extend(_rule_edges(dated, stats))
    else:
        edges.extend(_splink_edges(dated, stats, model, train))
    joined = clusters.join(recs, edges)
    stats.conflicts_refused += joined.conflicts_refused
    stats.fuzzy_links += joined.fuzzy_links
    labels, stats.persons = clusters.labelled(recs, joined, prefix)
    return labels


_OUT_SCHEMA = {
    "id": pl.Int64,
    "person_key": pl.Utf8,
    "reason": pl.Utf8,
    "score": pl.Float64,
    "linked_to": pl.Int64,
    "evidence": pl.Utf8,
}


def _prepared(frame: pl.DataFrame, splits: frozenset[int]) -> pl.DataFrame:
    """The identities in id order with their positions, nickname-folded names, and the analysts'
    splits standing alone (a split record keeps no source id to be joined by)."""
    split_list = list(splits)
    return (
        frame.sort("id")
        .with_row_index("pos")
        .with_columns(
            pos=pl.col("pos").cast(pl.Int64),
            cg=nickname_folded("given"),
            cf=nickname_folded("family"),
            is_split=pl.col("id").is_in(split_list),
            source_id=pl.when(pl.col("id").is_in(split_list)).then(None).otherwise("source_id"),
        )
    )


def _decided_edges(recs: pl.DataFrame, merges: Sequence[tuple[int, int]]) -> list[Edge]:
    """The analysts' merges, tried first and forced through a conflict of ids."""
    pos_of = dict(zip(recs["id"].to_list(), recs["pos"].to_list(), strict=True))
    code = LINK_REASON_CODES.index(LinkReason.MANUAL_MERGE)
    return [
        (pos_of[a], pos_of[b], code, 1.0, True, None)
        for a, b in merges
        if a in pos_of and b in pos_of
    ]


def _group_edges(data: pl.DataFrame, keys: list[str], reason: LinkReason) -> list[Edge]:
    """Every record joined to the first record sharing its ``keys``."""
    heads = data.group_by(keys).agg(head=pl.col("pos").min(), members=pl.col("pos"))
    exploded = heads.explode("members").filter(pl.col("members") != pl.col("head"))
    code = LINK_REASON_CODES.index(reason)
    return [
        (h, m, code, 1.0, False, None)
        for h, m in zip(exploded["head"].to_list(), exploded["members"].to_list(), strict=True)
    ]


def _exact_edges(free: pl.DataFrame, dated: pl.DataFrame) -> list[Edge]:
    """Same id, then exact name and date of birth; fuzzy links follow, best first."""
    with_id = free.filter(pl.col("source_id").is_not_null())
    return _group_edges(with_id, ["source_id"], LinkReason.SAME_ID) + _group_edges(
        dated, ["cg", "cf", "dob"], LinkReason.EXACT_NAME_DOB
    )


def resolve(
    records: Sequence[IdentityRecord],
    *,
    merges: Sequence[tuple[int, int]] = (),
    splits: frozenset[int] = frozenset(),
    prefix: str = "HX",
    stats: ResolutionStats | None = None,
    method: Literal["splink", "rules"] = "splink",
) -> list[Resolved]:
    """Record-by-record form of ``resolve_frame`` (for small sets and tests)."""
    frame = pl.DataFrame(
        {
            "id": [r.id for r in records],
            "source_id": [r.source_id for r in records],
            "given": [r.given for r in records],
            "family": [r.family for r in records],
            "dob": [r.dob for r in records],
        },
        schema={
            "id": pl.Int64,
            "source_id": pl.Utf8,
            "given": pl.Utf8,
            "family": pl.Utf8,
            "dob": pl.Date,
        },
    )
    out = resolve_frame(
        frame, merges=merges, splits=splits, prefix=prefix, stats=stats, method=method
    )
    return [
        Resolved(i, key, LinkReason(reason), sc, linked, why)
        for i, key, reason, sc, linked, why in out.iter_rows()
    ]
