from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from tests.conftest import make_settings
from vigil.bootstrap import build_container
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
