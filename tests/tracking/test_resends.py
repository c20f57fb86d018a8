"""One row per report: resends, redeliveries and replays never store a fix twice.

The key is device, fix time and the raw message's hash (tracking.fix_keys); every test runs on
real SQLite and real PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, func, select

from tests.tracking.helpers import T0, fix, postgres_schema
from vigil.bootstrap import Container
from vigil.db import migrate
from vigil.tracking import store, trail_reads
from vigil.tracking.model import Alarm, Fix, QualityFlags
from vigil.tracking.tables import fixes


def _count(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(fixes)).scalar_one())


def _append(container: Container, batch: list[Fix]) -> store.Appended:
    with container.uow() as uow:
        done = store.append_new(uow, batch, ["P1"] * len(batch))
        uow.commit()
    return done


def _minutes(n: int, **extra: Any) -> list[Fix]:
    return [fix(at=T0 + timedelta(minutes=i), raw=f"frame-{i}", **extra) for i in range(n)]


def test_the_same_batch_twice_stores_each_fix_once_and_gives_the_same_ids(
    container: Container,
) -> None:
    batch = _minutes(5)
    first = _append(container, batch)
    # The resend arrives later, so its receive time differs: still the same reports.
    resent = [replace(f, receive_time=f.receive_time + timedelta(minutes=30)) for f in batch]
    second = _append(container, resent)
    assert second.ids == first.ids
    assert first.new == [0, 1, 2, 3, 4]
    assert second.new == []
    assert _count(container) == 5


def test_a_fix_twice_in_one_batch_is_stored_once_and_both_get_its_id(
    container: Container,
) -> None:
    a, b = _minutes(2)
    done = _append(container, [a, b, a, a])
    assert done.new == [0, 1]
    assert done.ids[0] == done.ids[2] == done.ids[3]
    assert done.ids[1] != done.ids[0]
    assert _count(container) == 2


def test_a_batch_of_new_and_stored_fixes_keeps_the_input_order_of_ids(
    container: Container,
) -> None:
    stored = _minutes(6)
    old = _append(container, [stored[1], stored[4]])
    done = _append(container, stored)
    assert done.new == [0, 2, 3, 5]
    assert done.ids[1] == old.ids[0]
    assert done.ids[4] == old.ids[1]
    with container.engine.connect() as conn:
        found = trail_reads.fixes_by_id(conn, done.ids)
    # Each id is the row of the fix at that position.
    assert [found[i].fix_time for i in done.ids] == [f.fix_time for f in stored]
    assert len(set(done.ids)) == 6
    assert _count(container) == 6


def test_the_same_device_and_time_with_another_message_is_other_evidence(
    container: Container,
) -> None:
    original = fix(at=T0, raw="787811aa")
    other = fix(at=T0, raw="787811bb", lat=52.49)
    done = _append(container, [original, other])
    again = _append(container, [other])
    assert done.new == [0, 1]
    assert again.ids == [done.ids[1]]
    assert _count(container) == 2


def test_fixes_without_a_raw_message_are_keyed_by_what_they_report(container: Container) -> None:
    plain = fix(at=T0, raw="", battery_pct=80.0, alarms=frozenset({Alarm.SOS}))
    moved = replace(plain, lat=52.5)
    alarmed = replace(plain, alarms=frozenset({Alarm.SOS, Alarm.STRAP_REMOVED}))
    done = _append(container, [plain, moved, alarmed])
    # The same report with other conclusions of ours (wearer, flags) is still the same report.
    with container.uow() as uow:
        again = store.append_new(uow, [plain], [None], [QualityFlags(implausible=True)])
        uow.commit()
    assert done.new == [0, 1, 2]
    assert again.ids == [done.ids[0]]
    assert again.new == []
    assert _count(container) == 3


def test_an_append_never_commits_the_callers_work(container: Container) -> None:
    """The store inserts inside a savepoint; releasing it must not end the caller's
    transaction (on SQLite a savepoint opened outside a transaction would be one)."""
    batch = _minutes(3)
    with container.engine.connect() as conn:
        transaction = conn.begin()
        store.append(conn, batch, ["P1"] * 3)
        store.append(conn, batch, ["P1"] * 3)  # refused, looked up, rolled back to the savepoint
        transaction.rollback()
    assert _count(container) == 0


def test_two_writers_of_the_same_new_fix_store_it_once(container: Container) -> None:
    """While one engine's batch is uncommitted, another (a partition moving over) stores the
    same fix and one more: it waits, is refused, finds the first one's row and stores the rest."""
    shared, other = _minutes(2)
    second: list[store.Appended] = []

    def the_other_writer() -> None:
        with container.uow() as uow:
            second.append(store.append_new(uow, [shared, other], ["P1", "P1"]))
            uow.commit()

    with container.uow() as uow:
        first = store.append_new(uow, [shared], ["P1"])
        writer = threading.Thread(target=the_other_writer)
        writer.start()
        writer.join(0.5)
        assert writer.is_alive()  # waiting for this transaction
        uow.commit()
    writer.join(10)
    [done] = second
    assert done.ids[0] == first.ids[0]
    assert done.new == [1]
    assert _count(container) == 2


def _legacy(conn: Connection, f: Fix) -> int:
    """A row as stored before the key existed (no frame key), straight into the table."""
    values = {
        "device_id": f.device_id,
        "person_id": "P1",
        "fix_time": f.fix_time,
        "receive_time": f.receive_time,
        "lat": f.lat,
        "lon": f.lon,
        "accuracy_m": f.accuracy_m,
        "cell": None,
        "valid": f.valid,
        "approximate": f.approximate,
        "implausible": False,
        "invalid_position": False,
        "speed_mps": f.speed_mps,
        "heading": f.heading,
        "altitude_m": f.altitude_m,
        "satellites": f.satellites,
        "battery_pct": f.battery_pct,
        "charging": f.charging,
        "alarms": ",".join(sorted(a.value for a in f.alarms)),
        "protocol": f.protocol,
        "raw": f.raw,
        "attributes": "{}",
    }
    return int(conn.execute(fixes.insert().returning(fixes.c.id), values).scalar_one())


@pytest.mark.parametrize("raw", ["787811cc", ""])
def test_fixes_stored_before_the_key_are_found_and_their_duplicates_allowed(
    container: Container, raw: str
) -> None:
    # Whole numbers in float columns and booleans come back from SQLite as integers: the key of
    # an old row is computed from the row as the database returns it.
    old = fix(at=T0, raw=raw, battery_pct=81.0, satellites=9, charging=True, speed_mps=0.0)
    with container.engine.begin() as conn:
        first = _legacy(conn, old)
        _legacy(conn, old)  # the duplicate a resend left before the upgrade
    done = _append(container, [old, fix(at=T0 + timedelta(minutes=1), raw=raw + "1")])
    assert done.ids[0] == first
    assert done.new == [1]
    assert _count(container) == 3


@pytest.fixture(params=["sqlite", "postgresql"])
def before_the_key(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database migrated only as far as the trail store without the key."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        migrate.upgrade(url, "tracking_0001")
        yield url
        return
    for url in postgres_schema("vigil_upgrade"):
        migrate.upgrade(url, "tracking_0001")
        yield url


def test_the_upgrade_keeps_duplicates_already_stored_and_then_stores_no_more(
    before_the_key: str,
) -> None:
    old = fix(at=T0, raw="787811dd")
    engine = create_engine(before_the_key)
    with engine.begin() as conn:
        # Core inserts name only the columns they are given: frame_key does not exist yet.
        ids = [_legacy(conn, old) for _ in range(3)]
    engine.dispose()
    migrate.upgrade(before_the_key, "heads")
    engine = create_engine(before_the_key)
    with engine.begin() as conn:
        keys = conn.execute(select(fixes.c.frame_key).order_by(fixes.c.id)).scalars().all()
        done = store.append_new(conn, [old, old], ["P1", "P1"])
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(fixes)).scalar_one()
    engine.dispose()
    assert keys == [None, None, None]  # nothing rewritten
    assert done.ids == [ids[0], ids[0]]
    assert done.new == []
    assert count == 3
    migrate.downgrade(before_the_key, "tracking_0001")
    migrate.upgrade(before_the_key, "heads")
