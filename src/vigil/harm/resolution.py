"""Who is who: join records of the same suspect (or victim) into one person, with reasons.

Records carry an id (a PNC or force person id) or only a name and date of birth, typed by
different officers: misspelt, first and last name swapped, a nickname, day and month transposed.
Resolution runs in memory over identities (distinct id + name + date of birth):

1. the same id is the same person;
2. the same canonical name (nicknames mapped to one given name) and the same date of birth is the
   same person;
3. otherwise candidates are found by *blocking* — records sharing a key of (date of birth with day
   and month in either order, phonetic code of one name) or (birth year, both phonetic codes) — and
   each candidate pair is scored with Jaro–Winkler on each name (in either order) and the date of
   birth rule; pairs above the threshold are joined.

Links are made best first and never join two different ids (two police ids are two people unless
an analyst merges them). An analyst's merge forces a join; a split keeps an identity apart from
every automatic link. Each identity keeps the reason and score of the link that joined it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import jellyfish
import polars as pl
from rapidfuzz.distance import JaroWinkler

from vigil.harm.model import LinkReason, canonical_given, dob_similarity

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


@dataclass
class ResolutionStats:
    identities: int = 0
    persons: int = 0
    candidate_pairs: int = 0
    fuzzy_links: int = 0
    oversized_blocks: int = 0
    conflicts_refused: int = 0


def phonetic(token: str) -> str:
    """NYSIIS of a name token (robust to vowel and doubled-letter misspellings)."""
    return jellyfish.nysiis(token) if token else ""


def token_similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b or canonical_given(a) == canonical_given(b):
        return 1.0
    similarity = float(JaroWinkler.normalized_similarity(a, b))
    if phonetic(a) == phonetic(b):
        similarity = max(similarity, 0.9)
    return similarity


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


class _UnionFind:
    def __init__(self, size: int, source_ids: Sequence[str | None]) -> None:
        self.parent = list(range(size))
        # The one id a set holds (or None); two sets with different ids are never joined.
        self.ids: list[str | None] = list(source_ids)

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: int, b: int, force: bool = False) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        ia, ib = self.ids[ra], self.ids[rb]
        if ia is not None and ib is not None and ia != ib and not force:
            return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.ids[ra] = self.ids[ra] or self.ids[rb]
        return True


def _candidate_pairs(
    frame: pl.DataFrame, stats: ResolutionStats
) -> list[tuple[int, int]]:
    """Index pairs of nodes sharing a blocking key (each pair once)."""
    with_dob = frame.filter(pl.col("year").is_not_null())
    if with_dob.height < 2:
        return []
    dm = pl.concat_str(
        [pl.min_horizontal("day", "month").cast(pl.Utf8), pl.max_horizontal("day", "month").cast(pl.Utf8)],
        separator="-",
    )
    ndob = pl.concat_str([pl.col("year").cast(pl.Utf8), dm], separator="-")
    pair = pl.concat_str(
        [pl.min_horizontal("pg", "pf"), pl.max_horizontal("pg", "pf")], separator="+"
    )
    keys = pl.concat(
        [
            with_dob.select("node", key=pl.concat_str([pl.lit("d"), ndob, pl.col("pg")], separator="|")),
            with_dob.select("node", key=pl.concat_str([pl.lit("d"), ndob, pl.col("pf")], separator="|")),
            with_dob.select(
                "node",
                key=pl.concat_str([pl.lit("y"), pl.col("year").cast(pl.Utf8), pair], separator="|"),
            ),
        ]
    ).unique()
    sizes = keys.group_by("key").agg(pl.len().alias("n"))
    stats.oversized_blocks = sizes.filter(pl.col("n") > MAX_BLOCK).height
    usable = sizes.filter((pl.col("n") >= 2) & (pl.col("n") <= MAX_BLOCK)).select("key")
    blocked = keys.join(usable, on="key")
    pairs = (
        blocked.join(blocked, on="key", suffix="_r")
        .filter(pl.col("node") < pl.col("node_r"))
        .select("node", "node_r")
        .unique()
    )
    stats.candidate_pairs = pairs.height
    return list(zip(pairs["node"].to_list(), pairs["node_r"].to_list(), strict=True))


def resolve(
    records: Sequence[IdentityRecord],
    *,
    merges: Sequence[tuple[int, int]] = (),
    splits: frozenset[int] = frozenset(),
    generated_key: Callable[[int], str] = lambda identity_id: f"HX{identity_id:08d}",
    stats: ResolutionStats | None = None,
) -> list[Resolved]:
    """Cluster identities into persons; ``merges``/``splits`` are the analysts' decisions."""
    stats = stats if stats is not None else ResolutionStats()
    stats.identities = len(records)
    if not records:
        return []
    order = sorted(range(len(records)), key=lambda i: records[i].id)
    recs = [records[i] for i in order]
    index_of = {rec.id: i for i, rec in enumerate(recs)}
    uf = _UnionFind(len(recs), [None if r.id in splits else r.source_id for r in recs])
    link: dict[int, tuple[LinkReason, float, int]] = {}

    def join(a: int, b: int, reason: LinkReason, score: float, force: bool = False) -> None:
        if not force and (recs[a].id in splits or recs[b].id in splits):
            return
        if uf.union(a, b, force=force):
            for mine, other in ((b, a), (a, b)):
                if mine not in link or force:
                    link[mine] = (reason, score, recs[other].id)
                    break
        elif uf.find(a) != uf.find(b):
            stats.conflicts_refused += 1

    for a_id, b_id in merges:
        if a_id in index_of and b_id in index_of:
            join(index_of[a_id], index_of[b_id], LinkReason.MANUAL_MERGE, 1.0, force=True)

    # 1. the same id.
    first_with_id: dict[str, int] = {}
    for i, rec in enumerate(recs):
        if rec.source_id is None or rec.id in splits:
            continue
        if (first := first_with_id.setdefault(rec.source_id, i)) != i:
            join(first, i, LinkReason.SAME_ID, 1.0)

    # 2. exact canonical name and date of birth: collapse into nodes for the fuzzy step.
    canon = [
        (canonical_given(r.given), r.family, r.dob) if r.dob is not None else None for r in recs
    ]
    node_of_key: dict[tuple[str, str, date], int] = {}
    nodes: list[int] = []
    for i, key in enumerate(canon):
        if key is None or recs[i].id in splits:
            continue
        head = node_of_key.get(key)
        if head is None:
            node_of_key[key] = i
            nodes.append(i)
        else:
            join(head, i, LinkReason.EXACT_NAME_DOB, 1.0)

    # 3. fuzzy: block, score, join best first.
    tokens = sorted({t for i in nodes for t in (canonical_given(recs[i].given), recs[i].family)})
    codes = dict(zip(tokens, (phonetic(t) for t in tokens), strict=True))
    frame = pl.DataFrame(
        {
            "node": list(range(len(nodes))),
            "pg": [codes[canonical_given(recs[i].given)] for i in nodes],
            "pf": [codes[recs[i].family] for i in nodes],
            "year": [recs[i].dob.year if recs[i].dob else None for i in nodes],
            "month": [recs[i].dob.month if recs[i].dob else None for i in nodes],
            "day": [recs[i].dob.day if recs[i].dob else None for i in nodes],
        },
        schema={
            "node": pl.Int64, "pg": pl.Utf8, "pf": pl.Utf8,
            "year": pl.Int32, "month": pl.Int32, "day": pl.Int32,
        },
    )
    scored: list[tuple[float, int, int]] = []
    for left, right in _candidate_pairs(frame, stats):
        a, b = nodes[left], nodes[right]
        score, _why = pair_score(recs[a], recs[b])
        if score >= LINK_THRESHOLD:
            scored.append((score, a, b))
    scored.sort(key=lambda item: (-item[0], recs[item[1]].id, recs[item[2]].id))
    for score, a, b in scored:
        before = uf.find(a) != uf.find(b)
        join(a, b, LinkReason.FUZZY_NAME_DOB, score)
        if before and uf.find(a) == uf.find(b):
            stats.fuzzy_links += 1

    # Person keys: the id a cluster holds; a generated one when it has none (or it is taken).
    members: dict[int, list[int]] = {}
    for i in range(len(recs)):
        members.setdefault(uf.find(i), []).append(i)
    taken: set[str] = set()
    key_of_root: dict[int, str] = {}
    for root, group in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        ids = sorted({recs[i].source_id for i in group if recs[i].source_id})
        chosen = next((candidate for candidate in ids if candidate not in taken), None)
        key = chosen or generated_key(recs[root].id)
        taken.add(key)
        key_of_root[root] = key
    stats.persons = len(members)
    out: list[Resolved] = []
    for i, rec in enumerate(recs):
        root = uf.find(i)
        if i in link:
            reason, score, other = link[i]
        elif len(members[root]) > 1:
            # The first member of a cluster: it carries the reason of whoever joined it.
            pointing = [m for m in members[root] if m in link and link[m][2] == rec.id]
            partner = pointing[0] if pointing else next(m for m in members[root] if m in link)
            reason, score, other = link[partner][0], link[partner][1], recs[partner].id
        else:
            reason, score, other = LinkReason.ONLY_RECORD, 1.0, None
        if rec.id in splits and len(members[root]) == 1:
            reason = LinkReason.MANUAL_SPLIT
        out.append(Resolved(rec.id, key_of_root[root], reason, score, other))
    return out
