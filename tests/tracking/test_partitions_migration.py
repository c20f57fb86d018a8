"""Migration tracking_0003 on a trail already stored: PostgreSQL's ``fixes`` becomes partitioned
by month with every row and id kept, the sequence goes on without collision, and the downgrade
brings back one table with every row; on SQLite the migration changes nothing.

The upgrade bounds ``fixes_before`` by the month after it runs (the wall clock): the rows here are
dated 2020 and 2200 so that where each lands does not depend on today's date.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select, text

from tests.tracking.helpers import fix, postgres_schema
from vigil.clock import FrozenClock
from vigil.db import migrate
from vigil.db.uow import UnitOfWork
from vigil.tracking import partitions, store, trail_retention
from vigil.tracking.tables import fixes

PAST = datetime(2020, 3, 2, 8, 0, tzinfo=UTC)
STRAY = datetime(2200, 1, 1, tzinfo=UTC)  # a device with a wrong clock
CLOCK = FrozenClock(datetime(2090, 5, 10, tzinfo=UTC))
INDEXES = sorted(str(ix.name) for ix in fixes.indexes)


@pytest.fixture(params=["sqlite", "postgresql"])
def before_partitions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database migrated as far as tracking_0002 (one ``fixes`` table)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        migrate.upgrade(url, "tracking_0002")
        yield url
        return
    for url in postgres_schema("vigil_upgrade"):
        migrate.upgrade(url, "tracking_0002")
        yield url


def append(engine: Engine, times: list[datetime]) -> list[int]:
    with UnitOfWork(engine, CLOCK) as uow:
        batch = [fix(at=t, raw=f"r{n}{t:%Y%m%d%H%M}") for n, t in enumerate(times)]
        ids = store.append(uow, batch, ["P1"] * len(batch))
        uow.commit()
    return ids


def all_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(fixes).order_by(fixes.c.id))]


def layout(engine: Engine) -> tuple[str, list[str], dict[int, str]]:
    """The table's kind, its indexes, and which table holds each fix."""
    with engine.connect() as conn:
        kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = 'fixes'::regclass"))
        indexes = conn.execute(
            text(
                "SELECT indexname FROM pg_indexes "
                "WHERE tablename = 'fixes' AND schemaname = current_schema()"
            )
        ).scalars()
        homes = conn.execute(text("SELECT id, tableoid::regclass::text FROM fixes"))
        return kind.scalar_one(), sorted(indexes), {int(i): str(h) for i, h in homes}


def test_the_upgrade_keeps_every_row_and_id_and_the_downgrade_brings_one_table_back(
    before_partitions: str,
) -> None:
    engine = create_engine(before_partitions)
    old = append(engine, [PAST, PAST.replace(hour=9), STRAY, PAST.replace(day=3)])
    stored = all_rows(engine)
    postgres = engine.dialect.name == "postgresql"
    migrate.upgrade(before_partitions, "tracking_0003")
    assert all_rows(engine) == stored
    if postgres:
        kind, indexes, homes = layout(engine)
        assert kind == "p"
        assert indexes == sorted([*INDEXES, "pk_fixes"])
        assert homes == {
            old[0]: "fixes_before",
            old[1]: "fixes_before",
            old[2]: "fixes_default",
            old[3]: "fixes_before",
        }
        with engine.connect() as conn:
            for partition in partitions.list_partitions(conn):
                own = conn.execute(
                    text(
                        "SELECT indexname FROM pg_indexes "
                        "WHERE tablename = :t AND schemaname = current_schema()"
                    ),
                    {"t": partition.name},
                ).scalars()
                expected = sorted(f"{partition.name}_{i}" for i in [*INDEXES, "pk_fixes"])
                assert sorted(own) == expected
    new = append(engine, [PAST.replace(hour=10), STRAY.replace(hour=1)])
    assert min(new) > max(old)  # the sequence goes on
    after = all_rows(engine)
    migrate.downgrade(before_partitions, "tracking_0002")
    assert all_rows(engine) == after
    if postgres:
        kind, indexes, homes = layout(engine)
        assert kind == "r"
        assert indexes == sorted([*INDEXES, "pk_fixes"])
        assert set(homes.values()) == {"fixes"}
        with pytest.raises(Exception, match="never altered"), engine.begin() as conn:
            conn.execute(text("UPDATE fixes SET lat = 1.0"))
    assert append(engine, [PAST.replace(hour=11)])[0] > max(new)
    engine.dispose()


def test_the_downgrade_after_retention_dropped_the_migrated_trail_keeps_what_is_left(
    before_partitions: str,
) -> None:
    engine = create_engine(before_partitions)
    append(engine, [PAST])
    migrate.upgrade(before_partitions, "tracking_0003")
    with engine.begin() as conn:
        partitions.create_ahead(conn, CLOCK.now())
    kept = append(engine, [CLOCK.now(), STRAY])
    with UnitOfWork(engine, CLOCK) as uow:
        trail_retention.apply_retention(uow, datetime(2090, 1, 1, tzinfo=UTC), "retention")
        uow.commit()
    with engine.connect() as conn:
        assert "fixes_before" not in [p.name for p in partitions.list_partitions(conn)]
    migrate.downgrade(before_partitions, "tracking_0002")
    assert [row[0] for row in all_rows(engine)] == kept
    if engine.dialect.name == "postgresql":
        assert layout(engine)[:2] == ("r", sorted([*INDEXES, "pk_fixes"]))
    engine.dispose()
