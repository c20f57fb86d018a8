"""Retention of matrix runs: a run older than its schedule goes with its entries, except the
newest run (the matrix people work from) and any run an open tasking review was decided on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from vigil.db.uow import UnitOfWork
from vigil.harm.tables import harm_reviews, harm_run_entries, harm_runs
from vigil.security import audit


def purge_before(uow: UnitOfWork, before: datetime, actor: str) -> int:
    """Delete runs computed before ``before`` that nothing holds; audited with the count."""
    conn = uow.connection
    newest = conn.execute(select(func.max(harm_runs.c.id))).scalar()
    held = select(harm_reviews.c.selected_run_id).where(
        harm_reviews.c.closed_at.is_(None), harm_reviews.c.selected_run_id.is_not(None)
    )
    released = select(harm_runs.c.id).where(
        harm_runs.c.computed_at < before,
        harm_runs.c.id != (newest or 0),
        harm_runs.c.id.not_in(held),
    )
    runs = list(conn.execute(released).scalars())
    if not runs:
        return 0
    conn.execute(delete(harm_run_entries).where(harm_run_entries.c.run_id.in_(runs)))
    return audit.delete_for_retention(
        uow, harm_runs, harm_runs.c.id.in_(runs), before=before, actor=actor
    )
