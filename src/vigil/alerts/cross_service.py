"""Alerts raised by another service's news about a tagged man (see vigil.links.crossing).

They go through the same routing, deliveries and escalation as the engine's alerts. Each has a
key of its own (the contact attempt, or the matrix run and person), stored as the alert's
episode id, so the same news twice raises one alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from vigil.alerts.model import AlertChange, AlertSource, Severity
from vigil.alerts.raising import NewAlert, raise_alert
from vigil.alerts.service import AlertContext
from vigil.alerts.tables import alerts
from vigil.db.uow import UnitOfWork


@dataclass(frozen=True)
class CrossServiceAlert:
    key: str
    kind: str
    severity: Severity
    person_id: int
    at: datetime  # when it happened: a moment, so the alert starts and ends there
    detail: dict[str, Any]


def raise_cross_service(
    uow: UnitOfWork, ctx: AlertContext, news: CrossServiceAlert
) -> AlertChange | None:
    """Raise the alert, or nothing when its key was raised before."""
    seen = uow.connection.execute(select(alerts.c.id).where(alerts.c.episode_id == news.key))
    if seen.first() is not None:
        return None
    person_id = str(news.person_id)
    return raise_alert(
        uow,
        ctx,
        NewAlert(
            episode_id=news.key,
            source=AlertSource.CROSS_SERVICE,
            kind=news.kind,
            severity=news.severity,
            person_id=person_id,
            condition_id=None,
            case=ctx.directory.case(uow, person_id),
            started_at=news.at,
            ended_at=news.at,
            raised_at=uow.clock.now(),
            retrospective=False,
            lat=None,
            lon=None,
            detail=news.detail,
        ),
    )
