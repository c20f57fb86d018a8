from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from tests.conftest import make_settings
from vigil.bootstrap import Container, build_container
from vigil.clock import SystemClock
from vigil.security import audit
from vigil.security.tables import audit_log


def test_concurrent_writers_on_sqlite_wait_their_turn_and_keep_the_audit_chain(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "busy.db"
    path.write_bytes(sqlite_template.read_bytes())
    container = build_container(make_settings(f"sqlite:///{path}"), clock=SystemClock())
    failures: list[BaseException] = []

    def write_many(worker: int) -> None:
        try:
            for n in range(40):
                with container.uow() as uow:
                    audit.record(
                        uow.connection,
                        at=uow.clock.now(),
                        actor=f"worker:{worker}",
                        action="person.view",
                        subject_type="person",
                        subject_id=n,
                    )
                    uow.commit()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write_many, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == 160
        assert audit.verify(conn).intact
    container.engine.dispose()


def test_a_reader_reads_while_a_writer_holds_the_lock_and_cannot_commit(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "busy.db"
    path.write_bytes(sqlite_template.read_bytes())
    container = build_container(make_settings(f"sqlite:///{path}"), clock=SystemClock())
    with container.uow() as writer:
        audit.record(
            writer.connection,
            at=writer.clock.now(),
            actor="worker:1",
            action="person.view",
            subject_type="person",
            subject_id=1,
        )
        # The writer holds SQLite's write lock and has not committed: a page reading now sees
        # the last committed state at once instead of waiting for the busy timeout.
        with container.reader() as reader:
            count = reader.connection.execute(select(func.count()).select_from(audit_log))
            assert count.scalar_one() == 0
            with pytest.raises(RuntimeError, match="read-only"):
                reader.commit()
        writer.commit()
    container.engine.dispose()


def test_a_reader_never_writes(container: Container) -> None:
    with container.reader() as reader:
        if reader.dialect == "postgresql":
            # PostgreSQL itself refuses; SQLite's refusal is the commit below.
            with pytest.raises(DBAPIError, match="read-only"):
                audit.record(
                    reader.connection,
                    at=reader.clock.now(),
                    actor="page",
                    action="person.view",
                    subject_type="person",
                    subject_id=1,
                )
        else:
            with pytest.raises(RuntimeError, match="read-only"):
                reader.commit()
