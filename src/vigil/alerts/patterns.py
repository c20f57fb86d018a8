"""Pattern detection: approach warnings counted per person and condition.

An offender skimming the edge of an exclusion zone produces approach warnings, not violations.
Each one alone is noise (and pinging the victim each time would be cruel); several on the same
condition within days is a stalking signal. The service raises one pattern alert to the officer
when ``PatternRule.is_pattern`` says so, and only adds to it while it stays open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vigil.alerts.model import AlertSource, AlertStatus, PatternRule
from vigil.alerts.tables import alert_approach_warnings, alerts
from vigil.db.uow import UnitOfWork
from vigil.engine.events import EngineEvent


def record_warning(uow: UnitOfWork, event: EngineEvent) -> None:
    """Store one approach warning; the same episode twice (a replay) counts once."""
    dialect_insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    uow.connection.execute(
        dialect_insert(alert_approach_warnings)
        .values(
            episode_id=event.episode_id,
            person_id=event.person_id,
            condition_id=event.condition_id,
            at=event.start,
        )
        .on_conflict_do_nothing(index_elements=["episode_id"])
    )


def recent_warnings(
    uow: UnitOfWork, rule: PatternRule, person_id: str, condition_id: str | None, at: datetime
) -> list[datetime]:
    table = alert_approach_warnings
    same_condition = (
        table.c.condition_id.is_(None)
        if condition_id is None
        else table.c.condition_id == condition_id
    )
    return list(
        uow.connection.execute(
            select(table.c.at).where(
                table.c.person_id == person_id,
                same_condition,
                table.c.at >= at - rule.within,
                table.c.at <= at,
            )
        ).scalars()
    )


def _open_pattern_alert(
    uow: UnitOfWork, person_id: str, condition_id: str | None
) -> Row[Any] | None:
    """The pattern alert still open for this person and condition, as stored (for raising.py,
    which adds a further warning to it)."""
    same_condition = (
        alerts.c.condition_id.is_(None)
        if condition_id is None
        else alerts.c.condition_id == condition_id
    )
    return uow.connection.execute(
        select(alerts).where(
            alerts.c.source == AlertSource.PATTERN.value,
            alerts.c.person_id == person_id,
            same_condition,
            alerts.c.status != AlertStatus.RESOLVED.value,
        )
    ).first()
