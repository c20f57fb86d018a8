"""Matrix runs past their schedule go with their entries, audited; the newest run and a run an
open tasking review was decided on stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.harm.test_import_and_runs import ANALYST, AS_OF, GOOD, csv, import_
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.harm import reviews
from vigil.harm.run_retention import purge_before
from vigil.harm.runs import compute_run
from vigil.harm.tables import harm_run_entries, harm_runs
from vigil.security.tables import audit_log


def _run(container: Container) -> int:
    with container.uow() as uow:
        run_id = compute_run(uow, as_of=AS_OF, principal=ANALYST)
        uow.commit()
    return run_id


def test_old_runs_go_but_the_newest_and_those_an_open_review_was_decided_on_stay(
    container: Container, clock: FrozenClock
) -> None:
    import_(container, csv(*GOOD))
    start = clock.now()
    first = _run(container)
    with container.uow() as uow:
        person = (
            uow.connection.execute(
                select(harm_run_entries.c.person_id).where(harm_run_entries.c.run_id == first)
            )
            .scalars()
            .first()
        )
        assert person is not None
        review = reviews.create_review(
            uow,
            person_id=person,
            tactic="disruption",
            actions="Joint visit with the neighbourhood team",
            owner="PC Sam Okafor",
            agency="police",
            review_date=start.date(),
            next_review_date=None,
            principal=ANALYST,
        )
        uow.commit()
    clock.set(start + timedelta(days=1))
    second = _run(container)
    clock.set(start + timedelta(days=2))
    newest = _run(container)

    with container.uow() as uow:
        deleted = purge_before(uow, start + timedelta(days=10), "system:retention")
        uow.commit()
    assert deleted == 1
    with container.engine.connect() as conn:
        kept = conn.execute(select(harm_runs.c.id).order_by(harm_runs.c.id)).scalars().all()
        orphans = conn.execute(
            select(func.count()).where(harm_run_entries.c.run_id == second)
        ).scalar_one()
        audited = (
            conn.execute(
                select(audit_log.c.detail).where(audit_log.c.action == "harm_runs.retention")
            )
            .scalars()
            .all()
        )
    assert kept == [first, newest]
    assert orphans == 0
    assert len(audited) == 1

    with container.uow() as uow:
        reviews.close_review(uow, review, ANALYST)
        assert purge_before(uow, start + timedelta(days=10), "system:retention") == 1
        uow.commit()
    with container.engine.connect() as conn:
        assert conn.execute(select(harm_runs.c.id)).scalars().all() == [newest]
