"""Retention of contact cases: a case finished (declined or closed, or barred with every bar
lifted) and untouched longer than its schedule goes with everything stored for it: its protected
people, notes, notices, lifted bars and their items, attempts and alerts. A case with a bar in
force is never deleted, whatever its age: the bar protects someone now. Intelligence reports
that named the case stay, without the case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, exists, or_, select, update

from vigil.contact.model import CaseStatus
from vigil.contact.tables import (
    contact_alerts,
    contact_attempts,
    contact_bar_items,
    contact_bars,
    contact_cases,
    contact_intelligence,
    contact_notes,
    contact_notifications,
    contact_protected_people,
)
from vigil.db.uow import UnitOfWork
from vigil.security import audit

_FINISHED = (CaseStatus.DECLINED.value, CaseStatus.CLOSED.value, CaseStatus.BARRED.value)
_CASE_TABLES = (
    contact_protected_people,
    contact_notes,
    contact_notifications,
    contact_bar_items,
    contact_bars,
    contact_attempts,
    contact_alerts,
)


def purge_before(uow: UnitOfWork, before: datetime, actor: str) -> int:
    """Delete finished cases last changed before ``before``; audited with the count."""
    conn = uow.connection
    bar_in_force_or_recent = exists().where(
        and_(
            contact_bars.c.case_id == contact_cases.c.id,
            or_(contact_bars.c.lifted_at.is_(None), contact_bars.c.lifted_at >= before),
        )
    )
    released = select(contact_cases.c.id).where(
        contact_cases.c.status.in_(_FINISHED),
        contact_cases.c.updated_at < before,
        ~bar_in_force_or_recent,
    )
    ids = list(conn.execute(released).scalars())
    if not ids:
        return 0
    for table in _CASE_TABLES:
        conn.execute(delete(table).where(table.c.case_id.in_(ids)))
    conn.execute(
        update(contact_intelligence)
        .where(contact_intelligence.c.case_id.in_(ids))
        .values(case_id=None)
    )
    return audit.delete_for_retention(
        uow, contact_cases, contact_cases.c.id.in_(ids), before=before, actor=actor
    )
