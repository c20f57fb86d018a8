"""Retention of alerts: a resolved alert older than its schedule goes with its history and its
deliveries; an open one never, nor one whose violation an evidence pack cites (legal hold: the
caller names those, as the evidence part holds them)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select

from vigil.alerts.model import AlertStatus
from vigil.alerts.tables import alert_deliveries, alert_delivery_attempts, alert_history, alerts
from vigil.db.uow import UnitOfWork
from vigil.security import audit


def purge_before(uow: UnitOfWork, before: datetime, actor: str, held: Collection[str] = ()) -> int:
    """Delete alerts resolved before ``before`` whose episode is not in ``held``."""
    conn = uow.connection
    released = select(alerts.c.id).where(
        alerts.c.status == AlertStatus.RESOLVED.value,
        alerts.c.resolved_at < before,
    )
    if held:
        released = released.where(alerts.c.episode_id.not_in(list(held)))
    ids = list(conn.execute(released).scalars())
    if not ids:
        return 0
    deliveries = select(alert_deliveries.c.id).where(alert_deliveries.c.alert_id.in_(ids))
    conn.execute(
        delete(alert_delivery_attempts).where(alert_delivery_attempts.c.delivery_id.in_(deliveries))
    )
    conn.execute(delete(alert_deliveries).where(alert_deliveries.c.alert_id.in_(ids)))
    conn.execute(delete(alert_history).where(alert_history.c.alert_id.in_(ids)))
    return audit.delete_for_retention(uow, alerts, alerts.c.id.in_(ids), before=before, actor=actor)
