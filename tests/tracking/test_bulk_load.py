"""A bulk load (a replay into a new trail file) stores what ``store.append`` stores for the same
fixes, row for row and id for id, and each report once."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, select, text

from vigil.db import migrate
from vigil.engine.replay import read_fixes
from vigil.engine.trail import fixes_from_table, recorded_from_table
from vigil.errors import ValidationError
from vigil.tracking import bulk_reports, fix_keys, store
from vigil.tracking.bulk_load import BulkLoad
from vigil.tracking.grid import cell_of, cells_of
from vigil.tracking.model import QualityFlags
from vigil.tracking.tables import fixes

HEADER = "device,time,lat,lon,accuracy_m,battery,alarm,approximate,invalid\n"
OWNER = {"T1": "101", "T2": "102"}  # T3 is allocated to nobody

Line = tuple[str, int, tuple[float, float] | None, float | None, float | None, str, bool, bool]
row = st.tuples(
    st.sampled_from(["T1", "T2", "T3"]),
    st.integers(0, 5),  # seconds past the hour: few, so reports repeat
    st.one_of(
        st.none(),
        st.tuples(
            st.sampled_from([52.0, 52.001, 51.9999, -0.002]),
            st.sampled_from([-1.2, -1.203, 0.0, 0.003]),
        ),
    ),
    st.one_of(st.none(), st.sampled_from([0.0, 5.0, 12.5])),
    st.one_of(st.none(), st.sampled_from([0.0, 50.0, 100.0])),
    st.sampled_from(["", "sos", "tamper;sos", "strap_removed", "battery_low"]),
    st.booleans(),
    st.booleans(),
)


def _csv(rows: list[Line], path: Path) -> Path:
    def cell(value: object) -> str:
        return "" if value is None else str(value)

    def position(at: tuple[float, float] | None) -> str:
        return "," if at is None else f"{at[0]},{at[1]}"

    lines = [
        f"{d},2026-11-23T17:00:0{s}Z,{position(at)},{cell(a)},{cell(b)},{al},"
        f"{'true' if ap else ''},{'true' if inv else ''}\n"
        for d, s, at, a, b, al, ap, inv in rows
    ]
    path.write_text(HEADER + "".join(lines))
    return path


def _store(path: Path) -> Connection:
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    return create_engine(url).connect()


def _index_names(connection: Connection) -> set[str]:
    query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'fixes'"
    return {r[0] for r in connection.execute(text(query + " AND sql IS NOT NULL"))}


def _rows(connection: Connection) -> list[tuple[object, ...]]:
    return [tuple(r) for r in connection.execute(select(fixes).order_by(fixes.c.id))]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(row, min_size=1, max_size=30), st.integers(1, 7))
def test_a_bulk_load_stores_what_append_stores(
    tmp_path_factory: pytest.TempPathFactory, rows: list[Line], batch: int
) -> None:
    folder = tmp_path_factory.mktemp("bulk")
    table = read_fixes(_csv(rows, folder / "fixes.csv"))
    people = [OWNER.get(name) for name in table.device_names]
    appended, loaded = _store(folder / "append.db"), _store(folder / "bulk.db")
    load = BulkLoad(loaded)
    append_ids: list[int] = []
    bulk_ids: list[int] = []
    for lo in range(0, len(table), batch):
        hi = min(lo + batch, len(table))
        fixes = fixes_from_table(table, lo, hi)
        flags = [
            QualityFlags(invalid_position=f.lat is None, approximate=f.approximate) for f in fixes
        ]
        append_ids += store.append(appended, fixes, [OWNER.get(f.device_id) for f in fixes], flags)
        bulk_ids += load.append(recorded_from_table(table, lo, hi, people)).tolist()
    load.finish()
    assert bulk_ids == append_ids
    assert _rows(loaded) == _rows(appended)


def test_each_report_is_stored_once_across_and_within_batches(tmp_path: Path) -> None:
    line = ("T1", 1, (52.0, -1.2), 5.0, None, "", False, False)
    other = ("T1", 2, (52.0, -1.2), 5.0, None, "", False, False)
    table = read_fixes(_csv([line, line, other, line, other], tmp_path / "fixes.csv"))
    connection = _store(tmp_path / "bulk.db")
    load = BulkLoad(connection)
    people = [OWNER.get(name) for name in table.device_names]
    first = load.append(recorded_from_table(table, 0, 3, people)).tolist()
    second = load.append(recorded_from_table(table, 3, 5, people)).tolist()
    load.finish()
    assert first == [1, 1, 2]
    assert second == [1, 2]
    assert len(_rows(connection)) == 2


def test_reports_whose_mixes_collide_are_told_apart_by_their_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every report mixes to one value: only the stored columns can tell copies from others.
    monkeypatch.setattr(
        bulk_reports, "_mix", lambda devices, *_: np.zeros(len(devices), dtype=np.uint64)
    )
    a = ("T1", 1, (52.0, -1.2), 5.0, None, "", False, False)
    b = ("T2", 1, (52.0, -1.2), 5.0, None, "", False, False)
    c = ("T1", 3, (52.0, -1.2), 5.0, None, "", False, False)
    table = read_fixes(_csv([a, b, a, c, b, c, a], tmp_path / "fixes.csv"))
    connection = _store(tmp_path / "bulk.db")
    load = BulkLoad(connection)
    people = [OWNER.get(name) for name in table.device_names]
    ids = load.append(recorded_from_table(table, 0, 3, people)).tolist()
    ids += load.append(recorded_from_table(table, 3, 7, people)).tolist()
    load.finish()  # the unique index is built: it would refuse a report stored twice
    assert ids == [1, 2, 1, 3, 2, 3, 1]


def test_the_indexes_are_built_again_exactly_as_migrated(tmp_path: Path) -> None:
    def indexes(connection: Connection) -> set[tuple[str, str]]:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'fixes'"
        return {(r[0], r[1]) for r in connection.execute(text(query))}

    migrated = indexes(_store(tmp_path / "migrated.db"))
    connection = _store(tmp_path / "bulk.db")
    load = BulkLoad(connection)
    assert {name for name, sql in indexes(connection) if sql} == set()
    load.finish()
    assert indexes(connection) == migrated


def test_a_store_that_holds_fixes_is_refused_and_a_failed_load_leaves_it_as_it_was(
    tmp_path: Path,
) -> None:
    table = read_fixes(
        _csv([("T1", 1, (52.0, -1.2), 5.0, None, "", False, False)], tmp_path / "f.csv")
    )
    people = [OWNER.get(name) for name in table.device_names]
    connection = _store(tmp_path / "bulk.db")
    with connection.begin():
        load = BulkLoad(connection)
        load.append(recorded_from_table(table, 0, 1, people))
        load.finish()
    with pytest.raises(ValidationError, match="empty"):
        BulkLoad(connection)
    connection.rollback()
    empty = _store(tmp_path / "other.db")
    transaction = empty.begin()
    BulkLoad(empty).append(recorded_from_table(table, 0, 1, people))
    transaction.rollback()
    assert _rows(empty) == []
    assert _index_names(empty) == {ix.name for ix in fixes.indexes}


finite = st.floats(-89.9, 89.9, allow_nan=False)


@given(st.lists(st.tuples(finite, st.floats(-179.9, 179.9, allow_nan=False)), min_size=1))
def test_cells_of_a_column_are_each_pairs_cell(points: list[tuple[float, float]]) -> None:
    lat = np.array([p[0] for p in points] + [0.002 * 26_000, -0.004])
    lon = np.array([p[1] for p in points] + [0.003 * -400, 0.006])
    assert cells_of(lat, lon).tolist() == [cell_of(a, o) for a, o in zip(lat, lon, strict=True)]


number = st.one_of(st.none(), st.floats(allow_nan=False), st.just(math.inf))
Numbers = tuple[
    float | None, float | None, float | None, float | None, float | None, float | None, float | None
]


@given(
    st.lists(st.tuples(st.tuples(*[number] * 7), st.booleans(), st.sampled_from(["", "sos"]))),
    st.sampled_from(["replay", "osmand"]),
)
def test_decoded_keys_of_a_batch_are_each_fixs_decoded_key(
    batch: list[tuple[Numbers, bool, str]], protocol: str
) -> None:
    texts = sorted({(valid, alarms) for _, valid, alarms in batch})
    encoded = [fix_keys.decoded_text(v, None, None, a, protocol, "{}") for v, a in texts]
    numbers = np.array(
        [[np.nan if x is None else x for x in values] for values, _, _ in batch], dtype=float
    ).reshape(len(batch), 7)
    text_of = np.array([texts.index((v, a)) for _, v, a in batch], dtype=np.intp)
    expected = [
        fix_keys.decoded_key(a, o, c, s, h, t, b, valid, None, None, alarms, protocol, "{}")
        for (a, o, c, s, h, t, b), valid, alarms in batch
    ]
    assert fix_keys.decoded_keys(numbers, encoded, text_of).tolist() == expected


def test_a_suspended_near_index_comes_back_when_the_load_is_rolled_back(tmp_path: Path) -> None:
    connection = _store(tmp_path / "trail.db")
    transaction = connection.begin()
    store.suspend_near_index(connection)
    transaction.rollback()
    query = "SELECT count(*) FROM sqlite_master WHERE name = :name"
    assert connection.execute(text(query), {"name": store.NEAR_INDEX}).scalar_one() == 1
