"""Resolved alerts past their schedule go with their history and deliveries, audited; an open
alert stays whatever its age, and so does one whose violation an evidence pack holds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.alerts.conftest import Registry, event, handle
from vigil.alerts import lifecycle
from vigil.alerts.alert_retention import purge_before
from vigil.alerts.tables import alert_deliveries, alert_history, alerts
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.security.model import SYSTEM
from vigil.security.tables import audit_log


def test_resolved_alerts_go_open_and_held_ones_stay(
    container: Container, registry: Registry, clock: FrozenClock
) -> None:
    start = clock.now()
    person = registry.high_risk_person
    changes = handle(
        container,
        *(event(person, at=start, episode_id=f"ep-{n}") for n in ("resolved", "held", "open")),
    )
    by_episode = dict(zip(("resolved", "held", "open"), (c.alert_id for c in changes), strict=True))
    with container.uow() as uow:
        for name in ("resolved", "held"):
            lifecycle.resolve(uow, SYSTEM, by_episode[name], "false_alert", "Tag fault")
        uow.commit()
    clock.set(start + timedelta(days=400))

    with container.uow() as uow:
        deleted = purge_before(
            uow, start + timedelta(days=30), "system:retention", held={"ep-held"}
        )
        uow.commit()

    assert deleted == 1
    with container.engine.connect() as conn:
        kept = set(conn.execute(select(alerts.c.episode_id)).scalars())
        history = conn.execute(
            select(func.count()).where(alert_history.c.alert_id == by_episode["resolved"])
        ).scalar_one()
        deliveries = conn.execute(
            select(func.count()).where(alert_deliveries.c.alert_id == by_episode["resolved"])
        ).scalar_one()
        audited = conn.execute(
            select(func.count()).where(audit_log.c.action == "alerts.retention")
        ).scalar_one()
    assert kept == {"ep-held", "ep-open"}
    assert (history, deliveries, audited) == (0, 0, 1)
