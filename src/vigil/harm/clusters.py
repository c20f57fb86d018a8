"""Identities joined into persons: union-find over the links in the order they are tried, and
each record's person key and the reason shown for it. Two different ids are never joined
automatically; only an analyst's merge forces it."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from vigil.harm.model import LINK_REASON_CODES, LinkReason

# (record, record, reason code, score, forced by an analyst, the link's JSON evidence)
Edge = tuple[int, int, int, float, bool, str | None]


_FUZZY_CODES = frozenset(
    {
        LINK_REASON_CODES.index(LinkReason.FUZZY_NAME_DOB),
        LINK_REASON_CODES.index(LinkReason.PROBABLE_MATCH),
    }
)


@dataclass
class Joined:
    """Per record: its cluster's root, and the link that joined it (reason code, score, the
    record it was joined to, the link's evidence)."""

    roots: list[int]
    reason: list[int | None]
    score: list[float | None]
    linked: list[int | None]
    evidence: list[str | None]
    conflicts_refused: int = 0
    """Links refused because they would join two different ids."""
    fuzzy_links: int = 0


def join(recs: pl.DataFrame, edges: list[Edge]) -> Joined:
    """Union-find over the edges in order, with the rule that two different ids are never
    joined automatically (only an analyst's merge forces it)."""
    n = recs.height
    parent = list(range(n))
    held: list[str | None] = recs["source_id"].to_list()
    joined = Joined([], [None] * n, [None] * n, [None] * n, [None] * n)

    def find(item: int) -> int:
        root = item
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:
            parent[item], item = root, parent[item]
        return root

    for a, b, code, sc, force, why in edges:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        ia, ib = held[ra], held[rb]
        if ia is not None and ib is not None and ia != ib and not force:
            joined.conflicts_refused += 1
            continue
        if rb < ra:
            ra, rb = rb, ra
        parent[rb] = ra
        held[ra] = held[ra] or held[rb]
        if code in _FUZZY_CODES:
            joined.fuzzy_links += 1
        target, other = (b, a) if joined.reason[b] is None or force else (a, b)
        if joined.reason[target] is None or force:
            joined.reason[target], joined.score[target] = code, sc
            joined.linked[target], joined.evidence[target] = other, why
    joined.roots = [find(i) for i in range(n)]
    return joined


def labelled(recs: pl.DataFrame, joined: Joined, prefix: str) -> tuple[pl.DataFrame, int]:
    """Each record's person key, and the reason, score and evidence shown for it; and how many
    persons there are."""
    id_series = recs["id"]
    result = (
        recs.select("pos", "id", "source_id", "is_split")
        .with_columns(
            root=pl.Series(joined.roots, dtype=pl.Int64),
            code=pl.Series(joined.reason, dtype=pl.Int64),
            score=pl.Series(joined.score, dtype=pl.Float64),
            linked_pos=pl.Series(joined.linked, dtype=pl.Int64),
            evidence=pl.Series(joined.evidence, dtype=pl.Utf8),
        )
        .with_columns(size=pl.len().over("root"))
    )
    clusters = _person_keys(result, id_series, prefix)
    final = _carried_reasons(result.join(clusters.select("root", "person_key"), on="root"))
    reasons = [r.value for r in LINK_REASON_CODES]
    labels = final.sort("pos").select(
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
    return labels, clusters.height


def _person_keys(result: pl.DataFrame, id_series: pl.Series, prefix: str) -> pl.DataFrame:
    """Person keys: the lowest id the cluster holds, unless a bigger cluster already took it."""
    return (
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


def _carried_reasons(result: pl.DataFrame) -> pl.DataFrame:
    """A cluster's first member carries the reason of the member linked to it (or any member)."""
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
    own = pl.col("code").is_not_null()
    joined = pl.col("size") > 1
    return (
        result.join(pointing, left_on="pos", right_on="linked_pos", how="left")
        .join(any_member, on="root", how="left")
        .with_columns(
            code=pl.when(own).then("code").when(joined).then(pl.coalesce("p_code", "a_code")),
            score=pl.when(own)
            .then("score")
            .when(joined)
            .then(pl.coalesce("p_score", "a_score"))
            .otherwise(1.0),
            linked_pos=pl.when(own)
            .then("linked_pos")
            .when(joined)
            .then(pl.coalesce("p_pos", "a_pos")),
            evidence=pl.when(own)
            .then("evidence")
            .when(joined)
            .then(
                pl.when(pl.col("p_code").is_not_null()).then("p_evidence").otherwise("a_evidence")
            ),
        )
    )
