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

from vigil.harm import linkage
from vigil.harm.model import LinkReason, dob_similarity
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


_REASON_CODES: tuple[LinkReason, ...] = tuple(LinkReason)


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


Edge = tuple[int, int, int, float, bool, str | None]


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
    code = _REASON_CODES.index(LinkReason.FUZZY_NAME_DOB)
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
    code = _REASON_CODES.index(LinkReason.PROBABLE_MATCH)
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
    out_schema = {
        "id": pl.Int64,
        "person_key": pl.Utf8,
        "reason": pl.Utf8,
        "score": pl.Float64,
        "linked_to": pl.Int64,
        "evidence": pl.Utf8,
    }
    if frame.height == 0:
        return pl.DataFrame(schema=out_schema)
    split_list = list(splits)
    recs = (
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
    n = recs.height
    pos_of = dict(zip(recs["id"].to_list(), recs["pos"].to_list(), strict=True))
    # Edges in the order they are tried: forced merges, same id, exact name and date of birth,
    # then fuzzy links best first.
    edges: list[tuple[int, int, int, float, bool, str | None]] = [
        (pos_of[a], pos_of[b], _REASON_CODES.index(LinkReason.MANUAL_MERGE), 1.0, True, None)
        for a, b in merges
        if a in pos_of and b in pos_of
    ]
    free = recs.filter(~pl.col("is_split"))

    def group_edges(data: pl.DataFrame, keys: list[str], reason: LinkReason) -> None:
        heads = data.group_by(keys).agg(head=pl.col("pos").min(), members=pl.col("pos"))
        exploded = heads.explode("members").filter(pl.col("members") != pl.col("head"))
        code = _REASON_CODES.index(reason)
        edges.extend(
            (h, m, code, 1.0, False, None)
            for h, m in zip(exploded["head"].to_list(), exploded["members"].to_list(), strict=True)
        )

    group_edges(free.filter(pl.col("source_id").is_not_null()), ["source_id"], LinkReason.SAME_ID)
    dated = free.filter(pl.col("dob").is_not_null() & (pl.col("family") != ""))
    group_edges(dated, ["cg", "cf", "dob"], LinkReason.EXACT_NAME_DOB)
    if method == "rules":
        edges.extend(_rule_edges(dated, stats))
    else:
        edges.extend(_splink_edges(dated, stats, model, train))
    # Union-find with the rule that two different ids are never joined automatically.
    parent = list(range(n))
    held: list[str | None] = recs["source_id"].to_list()
    reason: list[int | None] = [None] * n
    score: list[float | None] = [None] * n
    linked: list[int | None] = [None] * n
    evidence: list[str | None] = [None] * n

    def find(item: int) -> int:
        root = item
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:
            parent[item], item = root, parent[item]
        return root

    fuzzy = {
        _REASON_CODES.index(LinkReason.FUZZY_NAME_DOB),
        _REASON_CODES.index(LinkReason.PROBABLE_MATCH),
    }
    for a, b, code, sc, force, why in edges:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        ia, ib = held[ra], held[rb]
        if ia is not None and ib is not None and ia != ib and not force:
            stats.conflicts_refused += 1
            continue
        if rb < ra:
            ra, rb = rb, ra
        parent[rb] = ra
        held[ra] = held[ra] or held[rb]
        if code in fuzzy:
            stats.fuzzy_links += 1
        target, other = (b, a) if reason[b] is None or force else (a, b)
        if reason[target] is None or force:
            reason[target], score[target], linked[target] = code, sc, other
            evidence[target] = why
    roots = [find(i) for i in range(n)]
    id_series = recs["id"]
    result = (
        recs.select("pos", "id", "source_id", "is_split")
        .with_columns(
            root=pl.Series(roots, dtype=pl.Int64),
            code=pl.Series(reason, dtype=pl.Int64),
            score=pl.Series(score, dtype=pl.Float64),
            linked_pos=pl.Series(linked, dtype=pl.Int64),
            evidence=pl.Series(evidence, dtype=pl.Utf8),
        )
        .with_columns(size=pl.len().over("root"))
    )
    # Person keys: the lowest id the cluster holds, unless a bigger cluster already took it.
    clusters = (
        result.group_by("root")
        .agg(size=pl.len(), candidate=pl.col("source_id").drop_nulls().min())
        .sort(["size", "root"], descending=[True, False])
        .with_columns(
            taken=pl.col("candidate").is_not_null() & pl.col("candidate").is_first_distinct()
        )
        .with_columns(
            person_key=pl.when(pl.col("taken"))
            .then(pl.col("candidate"))
            .otherwise(
                pl.lit(prefix) + pl.lit(id_series).gather(pl.col("root")).cast(pl.Utf8).str.zfill(8)
            )
        )
    )
    stats.persons = clusters.height
    # A cluster's first member carries the reason of the member linked to it (or any member).
    pointing = (
        result.filter(pl.col("linked_pos").is_not_null())
        .group_by("linked_pos")
        .agg(
            p_code=pl.col("code").first(),
            p_score=pl.col("score").first(),
            p_pos=pl.col("pos").first(),
            p_evidence=pl.col("evidence").first(),
        )
    )
    any_member = (
        result.filter(pl.col("code").is_not_null())
        .group_by("root")
        .agg(
            a_code=pl.col("code").first(),
            a_score=pl.col("score").first(),
            a_pos=pl.col("pos").first(),
            a_evidence=pl.col("evidence").first(),
        )
    )
    final = (
        result.join(clusters.select("root", "person_key"), on="root")
        .join(pointing, left_on="pos", right_on="linked_pos", how="left")
        .join(any_member, on="root", how="left")
        .with_columns(
            code=pl.when(pl.col("code").is_not_null())
            .then("code")
            .when(pl.col("size") > 1)
            .then(pl.coalesce("p_code", "a_code"))
            .otherwise(None),
            score=pl.when(pl.col("code").is_not_null())
            .then("score")
            .when(pl.col("size") > 1)
            .then(pl.coalesce("p_score", "a_score"))
            .otherwise(1.0),
            linked_pos=pl.when(pl.col("code").is_not_null())
            .then("linked_pos")
            .when(pl.col("size") > 1)
            .then(pl.coalesce("p_pos", "a_pos"))
            .otherwise(None),
            evidence=pl.when(pl.col("code").is_not_null())
            .then("evidence")
            .when(pl.col("size") > 1)
            .then(
                pl.when(pl.col("p_code").is_not_null()).then("p_evidence").otherwise("a_evidence")
            )
            .otherwise(None),
        )
    )
    reasons = [r.value for r in _REASON_CODES]
    return final.sort("pos").select(
        "id",
        "person_key",
        reason=pl.when(pl.col("code").is_not_null())
        .then(pl.col("code").replace_strict(dict(enumerate(reasons)), return_dtype=pl.Utf8))
        .when(pl.col("is_split"))
        .then(pl.lit(LinkReason.MANUAL_SPLIT.value))
        .otherwise(pl.lit(LinkReason.ONLY_RECORD.value)),
        score=pl.col("score").fill_null(1.0),
        linked_to=pl.lit(id_series).gather(pl.col("linked_pos")),
        evidence="evidence",
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
