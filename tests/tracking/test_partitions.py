"""The trail's monthly partitions on PostgreSQL (tracking.partitions, migration tracking_0003):
fixes land in their month, strays in DEFAULT, months are created ahead, and retention drops a
month whole unless a fix in it is under legal hold.

Each test has a schema of its own (retention drops partitions); the clock is frozen in 2090, far
from the trail the migration found (``fixes_before`` ends the month after it ran).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, column, create_engine, delete, select, text, update
from sqlalchemy import table as sa_table

from tests.conftest import make_settings
from tests.tracking.helpers import fix, postgres_schema
from vigil import retention
from vigil.bootstrap import build_container
from vigil.clock import FrozenClock
from vigil.db import migrate
from vigil.db.uow import UnitOfWork
from vigil.security.tables import audit_log
from vigil.tracking import partitions, store, trail_reads, trail_retention

NOW = datetime(2090, 5, 10, 9, 0, tzinfo=UTC)


def at(month: int, day: int = 15, year: int = 2090) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine() -> Iterator[Engine]:
    for url in postgres_schema("vigil_partitions"):
        migrate.upgrade(url)
        built = create_engine(url)
        yield built
        built.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


def append(engine: Engine, clock: FrozenClock, times: list[datetime]) -> list[int]:
    with UnitOfWork(engine, clock) as uow:
        ids = store.append(
            uow, [fix(at=t, raw=f"r{t:%Y%m%d%H%M%S%f}") for t in times], ["P1"] * len(times)
        )
        uow.commit()
    return ids


def homes(engine: Engine, ids: list[int]) -> list[str]:
    """The partition each fix is stored in, in the order of ``ids``."""
    with engine.connect() as conn:
        found = dict(conn.execute(text("SELECT id, tableoid::regclass::text FROM fixes")).all())
    return [found[i] for i in ids]


def audits(engine: Engine, action: str) -> list[tuple[str, dict[str, Any]]]:
    query = select(audit_log.c.subject_id, audit_log.c.detail).where(audit_log.c.action == action)
    with engine.connect() as conn:
        return [(str(s), json.loads(d)) for s, d in conn.execute(query.order_by(audit_log.c.id))]


def names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [p.name for p in partitions.list_partitions(conn)]


def create_ahead(engine: Engine, now: datetime) -> list[str]:
    with engine.begin() as conn:
        return partitions.create_ahead(conn, now)


def test_fixes_land_in_their_months_partition_and_a_stray_clock_in_default(
    engine: Engine, clock: FrozenClock
) -> None:
    assert create_ahead(engine, NOW) == ["fixes_y2090m05", "fixes_y2090m06", "fixes_y2090m07"]
    assert create_ahead(engine, NOW) == []  # idempotent
    # Months the migrated trail's partition covers are not created again.
    assert create_ahead(engine, datetime(2020, 5, 1, tzinfo=UTC)) == []
    last_of_may = datetime(2090, 6, 1, tzinfo=UTC) - timedelta(microseconds=1)
    times = [at(5), last_of_may, datetime(2090, 6, 1, tzinfo=UTC), at(7), at(1, year=2200)]
    ids = append(engine, clock, times)
    assert homes(engine, ids) == [
        "fixes_y2090m05",
        "fixes_y2090m05",
        "fixes_y2090m06",
        "fixes_y2090m07",
        "fixes_default",
    ]
    with engine.connect() as conn:
        listed = {p.name: p for p in partitions.list_partitions(conn)}
    june = listed["fixes_y2090m06"]
    assert (june.lower, june.upper) == (datetime(2090, 6, 1, tzinfo=UTC), at(7, 1).replace(hour=0))
    assert listed["fixes_before"].lower is None
    assert listed["fixes_default"].default
    assert names(engine)[-1] == "fixes_default"


def test_a_resend_into_a_monthly_partition_is_found_not_stored_again(
    engine: Engine, clock: FrozenClock
) -> None:
    # PostgreSQL names the partition's index in a unique violation: the partition's copy of the
    # one-row-per-report index carries the parent's name, so the store knows it for a resend.
    create_ahead(engine, NOW)
    first = append(engine, clock, [at(5), at(6)])
    with UnitOfWork(engine, clock) as uow:
        again = store.append_new(uow, [fix(at=at(6), raw=f"r{at(6):%Y%m%d%H%M%S%f}")], ["P1"])
        uow.commit()
    assert again.ids == [first[1]]
    assert again.new == []


def test_a_resend_into_a_month_partitioned_by_hand_is_found_too(
    engine: Engine, clock: FrozenClock
) -> None:
    # A month made outside tracking.partitions (by hand, or by pg_partman) has indexes named
    # otherwise; the refusal still gives the key's columns, and that is enough.
    start, end = (partitions.month_start(at(m)) for m in (8, 9))
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE fixes_by_hand PARTITION OF fixes FOR VALUES "
                f"FROM ({int(start.timestamp()) * 10**6}) TO ({int(end.timestamp()) * 10**6})"
            )
        )
    first = append(engine, clock, [at(8)])
    with UnitOfWork(engine, clock) as uow:
        again = store.append_new(uow, [fix(at=at(8), raw=f"r{at(8):%Y%m%d%H%M%S%f}")], ["P1"])
        uow.commit()
    assert again.ids == first
    assert again.new == []


def test_autogenerate_leaves_the_partitions_alone() -> None:
    from vigil.tracking.partitions import is_partition_name

    assert all(map(is_partition_name, ["fixes_before", "fixes_default", "fixes_y2090m05"]))
    assert not any(map(is_partition_name, ["fixes", "fix_legal_holds", "fixes_y2090", None]))


class Recorder:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.warnings.append((event, fields))

    def info(self, event: str, **fields: Any) -> None:
        pass


def test_a_month_already_in_default_is_skipped_and_logged_and_the_others_are_created(
    engine: Engine, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    early = append(engine, clock, [at(8), at(8, 20)])  # no August yet: DEFAULT takes them
    recorder = Recorder()
    monkeypatch.setattr(partitions, "log", recorder)
    assert create_ahead(engine, at(7, 1)) == ["fixes_y2090m07", "fixes_y2090m09"]
    assert recorder.warnings == [
        (
            "tracking.partition_blocked",
            {
                "partition": "fixes_y2090m08",
                "start": "2090-08-01T00:00:00+00:00",
                "end": "2090-09-01T00:00:00+00:00",
                "fixes_in_default": 2,
            },
        )
    ]
    assert homes(engine, early) == ["fixes_default", "fixes_default"]
    assert homes(engine, append(engine, clock, [at(9)])) == ["fixes_y2090m09"]


def test_retention_drops_an_expired_month_whole_and_audits_it(
    engine: Engine, clock: FrozenClock
) -> None:
    create_ahead(engine, at(1, 10))
    ids = append(engine, clock, [at(1, 5), at(1, 6), at(1, 7), at(2, 10), at(2, 20), at(3)])
    with UnitOfWork(engine, clock) as uow:
        deleted = trail_retention.apply_retention(uow, at(2, 15), "system:retention")
        uow.commit()
    assert deleted == 4  # January's three with the month, February's first by the row
    assert "fixes_y2090m01" not in names(engine)
    assert "fixes_y2090m02" in names(engine)
    dropped = dict(audits(engine, "fixes.partition_dropped"))
    assert dropped["fixes_y2090m01"] == {
        "partition": "fixes_y2090m01",
        "from": "2090-01-01T00:00:00+00:00",
        "to": "2090-02-01T00:00:00+00:00",
        "fixes": 3,
    }
    assert dropped["fixes_before"]["from"] is None  # the migrated trail, empty here
    ((_, run),) = audits(engine, "fixes.retention")
    assert run["deleted"] == 4
    with engine.connect() as conn:
        assert sorted(trail_reads.fixes_by_id(conn, ids)) == ids[4:]


def test_a_held_fix_keeps_its_expired_month_and_only_its_neighbours_go(
    engine: Engine, clock: FrozenClock
) -> None:
    create_ahead(engine, at(1, 10))
    ids = append(engine, clock, [at(1, 5), at(1, 6), at(1, 7), at(3)])
    with UnitOfWork(engine, clock) as uow:
        trail_retention.place_legal_hold(uow, [ids[1]], "evidence pack 90", "user:1:officer")
        assert trail_retention.apply_retention(uow, at(2, 1).replace(hour=0), "retention") == 2
        uow.commit()
    assert "fixes_y2090m01" in names(engine)
    assert audits(engine, "fixes.partition_held") == [
        (
            "fixes_y2090m01",
            {
                "partition": "fixes_y2090m01",
                "from": "2090-01-01T00:00:00+00:00",
                "to": "2090-02-01T00:00:00+00:00",
                "deleted": 2,
                "held": 1,
            },
        )
    ]
    with UnitOfWork(engine, clock) as uow:  # a later run: the month stays, nothing to record
        assert trail_retention.apply_retention(uow, at(2, 20), "retention") == 0
        uow.commit()
    assert len(audits(engine, "fixes.partition_held")) == 1
    with engine.connect() as conn:
        assert sorted(trail_reads.fixes_by_id(conn, ids)) == [ids[1], ids[3]]


@pytest.mark.parametrize("table", ["fixes_y2090m05", "fixes_default", "fixes"])
def test_every_partition_refuses_to_alter_a_fix_or_delete_one_out_of_rule(
    engine: Engine, clock: FrozenClock, table: str
) -> None:
    create_ahead(engine, NOW)
    # Held below the cut-off; not yet released; a stray far in the future (DEFAULT).
    ids = append(engine, clock, [at(5, 1), at(5, 20), at(1, year=2200)])
    with UnitOfWork(engine, clock) as uow:
        trail_retention.place_legal_hold(uow, [ids[0]], "case 7", "user:1:officer")
        assert trail_retention.apply_retention(uow, at(5, 3), "retention") == 0
        uow.commit()
    inside = [
        i for i, home in zip(ids, homes(engine, ids), strict=True) if table in {home, "fixes"}
    ]
    assert inside
    rows = sa_table(table, column("id"), column("lat"))
    for fix_id in inside:
        with pytest.raises(Exception, match="never altered"), engine.begin() as conn:
            conn.execute(update(rows).where(rows.c.id == fix_id).values(lat=51.0))
        with pytest.raises(Exception, match="retention"), engine.begin() as conn:
            conn.execute(delete(rows).where(rows.c.id == fix_id))
    with engine.connect() as conn:
        assert sorted(trail_reads.fixes_by_id(conn, ids)) == ids


def test_sqlite_has_one_table_and_nothing_to_create(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    migrate.upgrade(url)
    sqlite = create_engine(url)
    with sqlite.begin() as conn:
        assert not partitions.is_partitioned(conn)
        assert partitions.create_ahead(conn, NOW) == []
        assert partitions.list_partitions(conn) == []
    sqlite.dispose()


def test_the_daily_job_creates_months_ahead_before_it_applies_retention(
    engine: Engine, clock: FrozenClock
) -> None:
    container = build_container(make_settings(engine.url.render_as_string(False)), clock=clock)
    try:
        retention.run_once(container)
    finally:
        container.engine.dispose()
    assert names(engine)[-4:] == [
        "fixes_y2090m05",
        "fixes_y2090m06",
        "fixes_y2090m07",
        "fixes_default",
    ]


def test_a_hold_placed_while_retention_runs_keeps_its_month(
    engine: Engine, clock: FrozenClock
) -> None:
    create_ahead(engine, at(1, 10))
    ids = append(engine, clock, [at(1, 5), at(1, 6), at(3)])

    def retain() -> int:
        with UnitOfWork(engine, clock) as uow:
            deleted = trail_retention.apply_retention(uow, at(2, 1), "retention")
            uow.commit()
        return deleted

    with UnitOfWork(engine, clock) as placing, ThreadPoolExecutor(1) as pool:
        # The hold is placed, not yet committed, when retention first counts January's holds.
        trail_retention.place_legal_hold(placing, [ids[0]], "case 9", "user:1:officer")
        running = pool.submit(retain)
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'LOCK TABLE fix_legal_holds%'"
        )
        for _ in range(100):
            with engine.connect() as conn:  # a new transaction: a new view of the activity
                if conn.execute(waiting).scalar_one():
                    break
            time.sleep(0.05)
        else:
            pytest.fail("retention never waited for the hold being placed")
        placing.commit()
        assert running.result(timeout=20) == 1
    assert "fixes_y2090m01" in names(engine)
    assert [d["held"] for _, d in audits(engine, "fixes.partition_held")] == [1]
    with engine.connect() as conn:
        assert sorted(trail_reads.fixes_by_id(conn, ids)) == [ids[0], ids[2]]
