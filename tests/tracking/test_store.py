"""The trail store: batched appends, raw fixes never altered, retention, unknown devices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.tracking.helpers import OPERATOR, T0, fix
from vigil.bootstrap import Container
from vigil.errors import ValidationError
from vigil.tracking import near_queries, store, trail_reads, trail_retention
from vigil.tracking.model import Alarm, QualityFlags
from vigil.tracking.tables import fixes


def _count(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(fixes)).scalar_one())


def test_append_returns_ids_in_input_order_and_keeps_every_field(container: Container) -> None:
    batch = [
        fix(
            "T1",
            T0,
            battery_pct=81.0,
            alarms=frozenset({Alarm.STRAP_REMOVED, Alarm.SOS}),
            raw="787811",
            attributes={"hdop": 0.9},
            satellites=9,
            charging=False,
        ),
        fix("T2", T0 + timedelta(seconds=5), lat=None, lon=None, valid=False),
        fix("T1", T0 + timedelta(seconds=30), approximate=True, accuracy_m=900.0),
    ]
    with container.uow() as uow:
        ids = store.append(uow, batch, ["P1", None, 42])
        uow.commit()
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    with container.engine.connect() as conn:
        stored = trail_reads.fixes_by_id(conn, ids)
        raw = trail_reads.raw_messages(conn, ids)
    first, second, third = (stored[i] for i in ids)
    assert first.person_id == "P1"
    assert first.fix_time == T0
    assert first.receive_time == T0 + timedelta(seconds=2)
    assert (first.lat, first.lon, first.accuracy_m) == (52.4862, -1.8904, 10.0)
    assert first.alarms == ("sos", "strap_removed")
    assert first.battery_pct == 81.0
    assert raw[ids[0]] == trail_reads.ReceivedMessage("787811", {"hdop": 0.9})
    assert second.person_id is None
    assert second.invalid_position
    assert not second.valid
    assert third.person_id == "42"
    assert third.approximate


def test_a_second_batch_continues_the_ids(container: Container) -> None:
    with container.uow() as uow:
        first = store.append(
            uow, [fix(at=T0 + timedelta(seconds=i)) for i in range(500)], ["P1"] * 500
        )
        uow.commit()
    with container.uow() as uow:
        second = store.append(
            uow, [fix(at=T0 + timedelta(minutes=10, seconds=i)) for i in range(300)], ["P1"] * 300
        )
        uow.commit()
    assert second[0] > first[-1]
    assert first == list(range(first[0], first[0] + 500))
    assert _count(container) == 800


def test_bad_batches_are_refused_whole(container: Container) -> None:
    naive = fix(at=T0.replace(tzinfo=None))
    with container.uow() as uow:
        with pytest.raises(ValidationError) as mismatch:
            store.append(uow, [fix(), fix()], ["P1"])
        assert mismatch.value.field == "person_ids"
        with pytest.raises(ValidationError) as bad_time:
            store.append(uow, [fix(), naive], ["P1", "P1"])
        assert bad_time.value.field == "fixes[1].fix_time"
        uow.commit()
    assert _count(container) == 0


def test_the_database_refuses_to_alter_or_delete_a_fix(container: Container) -> None:
    with container.uow() as uow:
        (fix_id,) = store.append(uow, [fix()], ["P1"])
        uow.commit()
    with pytest.raises(Exception, match="never altered"), container.engine.begin() as conn:
        conn.execute(text("UPDATE fixes SET lat = 51.0 WHERE id = :id"), {"id": fix_id})
    with pytest.raises(Exception, match="retention"), container.engine.begin() as conn:
        conn.execute(text("DELETE FROM fixes WHERE id = :id"), {"id": fix_id})
    assert _count(container) == 1


def test_retention_deletes_only_old_fixes_not_under_legal_hold(container: Container) -> None:
    old = [fix(at=T0 - timedelta(days=400, minutes=i)) for i in range(3)]
    recent = [fix(at=T0 - timedelta(days=10))]
    with container.uow() as uow:
        ids = store.append(uow, old + recent, ["P1"] * 4)
        trail_retention.place_legal_hold(uow, [ids[1]], "recall R-17", actor="user:1:officer")
        uow.commit()
    with container.uow() as uow:
        deleted = trail_retention.apply_retention(uow, T0 - timedelta(days=365), actor="retention")
        uow.commit()
    assert deleted == 2
    with container.engine.connect() as conn:
        left = trail_reads.fixes_by_id(conn, ids)
    assert sorted(left) == [ids[1], ids[3]]
    with container.uow() as uow, pytest.raises(ValidationError) as back:
        trail_retention.apply_retention(uow, T0 - timedelta(days=500), actor="retention")
    assert back.value.field == "cutoff"
    # Even below the cut-off, a held fix cannot be deleted by hand.
    with pytest.raises(Exception, match="retention"), container.engine.begin() as conn:
        conn.execute(text("DELETE FROM fixes WHERE id = :id"), {"id": ids[1]})


def test_unallocated_devices_are_kept_and_listed(container: Container) -> None:
    with container.uow() as uow:
        store.append(
            uow,
            [
                fix("STRAY1", T0),
                fix("STRAY1", T0 + timedelta(hours=1)),
                fix("T1", T0),
                fix("STRAY2", T0 + timedelta(minutes=5)),
            ],
            [None, None, "P1", None],
        )
        uow.commit()
    with container.engine.connect() as conn:
        found = trail_reads.unknown_devices(conn)
    assert [(d.device_id, d.fixes) for d in found] == [("STRAY1", 2), ("STRAY2", 1)]
    assert found[0].first_fix_time == T0
    assert found[0].last_fix_time == T0 + timedelta(hours=1)


def test_flagged_fixes_are_kept_but_never_enter_the_near_index(container: Container) -> None:
    batch = [fix(at=T0), fix(at=T0 + timedelta(seconds=1)), fix(lat=0.0, lon=0.0)]
    flags = [QualityFlags(), QualityFlags(implausible=True), QualityFlags(invalid_position=True)]
    with container.uow() as uow:
        ids = store.append(uow, batch, ["P1"] * 3, flags)
        uow.commit()
    with container.engine.connect() as conn:
        cells = dict(conn.execute(select(fixes.c.id, fixes.c.cell)).all())
    assert cells[ids[0]] is not None
    assert cells[ids[1]] is None
    assert cells[ids[2]] is None


def test_without_flags_the_store_judges_jumps_within_the_batch(container: Container) -> None:
    # 50 km in 10 seconds, with 10 m accuracy each: no one travels at 5 km/s.
    batch = [fix(at=T0), fix(at=T0 + timedelta(seconds=10), lat=52.9)]
    with container.uow() as uow:
        ids = store.append(uow, batch, ["P1", "P1"])
        uow.commit()
    with container.engine.connect() as conn:
        stored = trail_reads.fixes_by_id(conn, ids)
    assert not stored[ids[0]].implausible
    assert stored[ids[1]].implausible


def _near_index_definition(container: Container) -> str | None:
    with container.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            sql = "SELECT sql FROM sqlite_master WHERE name = 'ix_fixes_cell_time'"
        else:
            sql = (
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_fixes_cell_time' "
                "AND schemaname = current_schema()"
            )
        found = conn.execute(text(sql)).scalar_one_or_none()
    return None if found is None else str(found)


def test_a_bulk_load_can_suspend_the_near_index_and_restore_it_as_migrated(
    container: Container,
) -> None:
    migrated = _near_index_definition(container)
    assert migrated is not None
    with container.engine.begin() as conn:
        store.suspend_near_index(conn)
        store.suspend_near_index(conn)  # idempotent
        store.append(conn, [fix(at=T0 + timedelta(seconds=i)) for i in range(50)], ["P1"] * 50)
    assert _near_index_definition(container) is None
    with container.uow() as uow:
        # Still answered (by a scan) while the index is away.
        found = near_queries.who_was_near(
            uow, OPERATOR, 52.4862, -1.8904, 100, T0, T0 + timedelta(minutes=1), "bulk load check"
        )
        assert [len(a.sightings) for a in found] == [50]
    with container.engine.begin() as conn:
        store.restore_near_index(conn)
        store.restore_near_index(conn)
    assert _near_index_definition(container) == migrated


def test_an_autocommit_sqlite_connection_is_refused_before_anything_is_written(
    container: Container,
) -> None:
    if container.engine.dialect.name != "sqlite":
        pytest.skip("autocommit id numbering concerns SQLite's append path only")
    autocommit = container.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with autocommit as conn, pytest.raises(ValidationError) as refused:
        store.append(conn, [fix(), fix(at=T0 + timedelta(seconds=1))], ["P1", "P1"])
    assert refused.value.field == "connection"
    assert _count(container) == 0
