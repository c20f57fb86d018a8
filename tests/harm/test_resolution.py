"""Entity resolution with deliberately messy names and dates."""

from __future__ import annotations

from datetime import date

import polars as pl

from vigil.harm.model import LinkReason, split_name
from vigil.harm.resolution import IdentityRecord, ResolutionStats, resolve
from vigil.harm.simulate import SimulationSpec, simulate


def rec(i: int, name: str, dob: date | None, source_id: str | None = None) -> IdentityRecord:
    given, family = split_name(name)
    return IdentityRecord(i, source_id, given, family, dob)


def keys(records: list[IdentityRecord]) -> dict[int, str]:
    return {r.id: r.person_key for r in resolve(records)}


def test_messy_records_of_one_man_are_joined_and_a_namesake_is_not() -> None:
    born = date(1984, 3, 7)
    records = [
        rec(1, "Robert Johnson", born, "84/123456A"),
        rec(2, "Bob Johnson", born),  # nickname
        rec(3, "Robert Jonhson", born),  # misspelt
        rec(4, "JOHNSON, Robert", born),  # family name first, comma
        rec(5, "Johnson Robert", born),  # swapped without a comma
        rec(6, "Robert Johnson", date(1984, 7, 3)),  # day and month transposed
        rec(7, "Robbert Johnsen", date(1984, 7, 3)),  # misspelt and transposed
        rec(8, "Robert Johnson", date(1991, 11, 23)),  # a different man of the same name
        rec(9, "Michael Johnson", born),  # his twin brother
    ]
    found = keys(records)
    assert {found[i] for i in range(1, 8)} == {"84/123456A"}
    assert found[8] != "84/123456A"
    assert found[9] != "84/123456A"


def test_each_link_keeps_its_reason_and_score() -> None:
    born = date(1990, 1, 20)
    out = {
        r.id: r
        for r in resolve(
            [
                rec(1, "Liz Carter", born),
                rec(2, "Elizabeth Carter", born),
                rec(3, "Elizabeth Cartre", born),
                rec(4, "Mary Stone", born, "X1"),
                rec(5, "Mary Stone", date(1970, 5, 5), "X1"),
            ]
        )
    }
    assert out[2].reason is LinkReason.EXACT_NAME_DOB  # nickname = canonical name
    assert out[3].reason is LinkReason.PROBABLE_MATCH
    assert 0.95 <= out[3].score < 1.0  # the match probability
    assert out[3].evidence is not None
    assert out[5].reason is LinkReason.SAME_ID
    assert out[5].linked_to == 4
    assert out[1].person_key == out[2].person_key == out[3].person_key


def test_two_different_police_ids_are_never_joined_automatically() -> None:
    born = date(1975, 6, 30)
    stats = ResolutionStats()
    out = resolve([rec(1, "Dean West", born, "A1"), rec(2, "Dean West", born, "B2")], stats=stats)
    assert out[0].person_key == "A1"
    assert out[1].person_key == "B2"
    assert stats.conflicts_refused == 1


def test_a_manual_merge_joins_and_a_split_separates() -> None:
    born = date(1975, 6, 30)
    records = [
        rec(1, "Dean West", born, "A1"),
        rec(2, "Dean West", born, "B2"),
        rec(3, "Dean West", born),
    ]
    merged = {r.id: r for r in resolve(records, merges=[(1, 2)])}
    assert merged[1].person_key == merged[2].person_key == merged[3].person_key
    assert merged[2].reason is LinkReason.MANUAL_MERGE
    split = {r.id: r for r in resolve(records, splits=frozenset({3}))}
    assert split[3].person_key not in {split[1].person_key, split[2].person_key}
    assert split[3].reason is LinkReason.MANUAL_SPLIT
    assert split[3].person_key.startswith("HX")


def test_a_person_without_any_id_gets_a_generated_one() -> None:
    out = resolve([rec(10, "Kim Lee", date(2000, 2, 2)), rec(11, "Kim Leigh", date(2000, 2, 2))])
    assert out[0].person_key == out[1].person_key == "HX00000010"


def test_resolution_on_simulated_messy_records_is_accurate() -> None:
    frame = simulate(SimulationSpec(perpetrators=3000, seed=11))
    distinct = (
        frame.select("suspect_id", "suspect_name", "suspect_dob", "sim_person")
        .unique(["suspect_id", "suspect_name", "suspect_dob"], keep="first")
        .with_row_index("id")
    )
    records = [
        rec(int(i), name, date.fromisoformat(dob), sid or None)
        for i, sid, name, dob, _ in distinct.iter_rows()
    ]
    found = pl.DataFrame(
        {"id": [r.id for r in resolve(records)], "key": [r.person_key for r in resolve(records)]},
        schema={"id": pl.UInt32, "key": pl.Utf8},
    )
    joined = distinct.join(found, on="id")
    merged_wrongly = (
        joined.group_by("key").agg(n=pl.col("sim_person").n_unique()).filter(pl.col("n") > 1).height
    )
    persons = joined["sim_person"].n_unique()
    split_wrongly = (
        joined.group_by("sim_person").agg(n=pl.col("key").n_unique()).filter(pl.col("n") > 1).height
    )
    assert merged_wrongly / persons < 0.005
    assert split_wrongly / persons < 0.02
