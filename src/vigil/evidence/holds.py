"""What evidence holds from retention: the violations its signed packs cite (the packs' fixes
are held in the trail store itself, see tracking.trail_retention)."""

from __future__ import annotations

from sqlalchemy import select

from vigil.db.uow import UnitOfWork
from vigil.evidence.tables import evidence_packs


def cited_violations(uow: UnitOfWork) -> set[str]:
    rows = uow.connection.execute(select(evidence_packs.c.violation_id).distinct())
    return {str(row.violation_id) for row in rows}
