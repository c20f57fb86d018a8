"""Events that cross: another service's news about a tagged man, raised as an alert to his
responsible officer through the alerts part (its routing, deliveries and escalation).

* A refused call or a held letter by a prisoner linked to a person with an order pending or in
  force (he may be recalled, or about to be released with a tag).
* A new matrix run in which a tagged man rose, or entered the matrix.

Only news of the last fortnight is raised (an alert about last year's call is noise).

The watch follows each source by a stored cursor, in the same transaction as the alerts it
raises: a crash repeats nothing and skips nothing, and each alert's key makes a second raise of
the same news a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from sqlalchemy import insert, select, update

from vigil.alerts.cross_service import CrossServiceAlert, raise_cross_service
from vigil.alerts.model import CONTACT_ATTEMPT_KIND, MATRIX_RISE_KIND, AlertChange, Severity
from vigil.alerts.runtime import AlertsRuntime
from vigil.alerts.service import AlertContext
from vigil.contact import prisoner_history
from vigil.db.uow import UnitOfWork
from vigil.harm import positions
from vigil.harm.model import Movement
from vigil.links import service
from vigil.links.model import LinkTarget
from vigil.links.tables import crossing_cursors
from vigil.logs import get_logger

log = get_logger(__name__)

CONTACT_SOURCE = "contact_attempts"
MATRIX_SOURCE = "harm_runs"
POLL_S = 30.0
# Older news is history, not news: a first start over years of attempts and runs raises nothing
# for them (the pages still show them).
NEWS_WINDOW = timedelta(days=14)


def raise_crossing_alerts(uow: UnitOfWork, ctx: AlertContext) -> list[AlertChange]:
    """Raise what the sources hold since their cursors, and move the cursors past it."""
    return [*_contact_attempts(uow, ctx), *_matrix_runs(uow, ctx)]


def _contact_attempts(uow: UnitOfWork, ctx: AlertContext) -> list[AlertChange]:
    attempts = prisoner_history.attempts_after(uow, _cursor(uow, CONTACT_SOURCE))
    if not attempts:
        return []
    numbers = sorted({a.prison_number for a in attempts})
    linked = service.linked_persons(uow, LinkTarget.PRISONER, numbers)
    changes = []
    since = uow.clock.now() - NEWS_WINDOW
    for attempt in attempts:
        person_id = linked.get(attempt.prison_number)
        if attempt.at < since or person_id is None or not _watched(uow, person_id):
            continue
        news = CrossServiceAlert(
            key=f"contact-attempt:{attempt.id}",
            kind=CONTACT_ATTEMPT_KIND,
            severity=Severity.HIGH,
            person_id=person_id,
            at=attempt.at,
            detail={
                "outcome": attempt.outcome,
                "prison_number": attempt.prison_number,
                "case_reference": attempt.case_reference,
            },
        )
        if (change := raise_cross_service(uow, ctx, news)) is not None:
            changes.append(change)
    _move_cursor(uow, CONTACT_SOURCE, attempts[-1].id)
    return changes


def _matrix_runs(uow: UnitOfWork, ctx: AlertContext) -> list[AlertChange]:
    runs = positions.runs_after(uow, _cursor(uow, MATRIX_SOURCE))
    if not runs:
        return []
    linked = service.linked_persons(uow, LinkTarget.MATRIX)
    changes = []
    since = uow.clock.now() - NEWS_WINDOW
    for run_id in runs:
        for place in positions.positions_in(uow, run_id, sorted(linked)):
            if place.as_of < since or place.movement not in (Movement.RISEN, Movement.NEW):
                continue
            person_id = linked[place.person_key]
            if not _watched(uow, person_id):
                continue
            news = CrossServiceAlert(
                key=f"matrix-rise:{run_id}:{place.person_key}",
                kind=MATRIX_RISE_KIND,
                severity=Severity.MEDIUM,
                person_id=person_id,
                at=place.as_of,
                detail={
                    "rank": place.rank,
                    "previous_rank": place.previous_rank,
                    "band": place.band,
                    "explanation": place.explanation,
                },
            )
            if (change := raise_cross_service(uow, ctx, news)) is not None:
                changes.append(change)
    _move_cursor(uow, MATRIX_SOURCE, runs[-1])
    return changes


def _watched(uow: UnitOfWork, person_id: int) -> bool:
    """He has an order pending or in force: his officer should hear of this."""
    return service.current_order(uow, person_id) is not None


def _cursor(uow: UnitOfWork, source: str) -> int:
    found = uow.connection.execute(
        select(crossing_cursors.c.last_id).where(crossing_cursors.c.source == source)
    ).scalar()
    return int(found) if found is not None else 0


def _move_cursor(uow: UnitOfWork, source: str, last_id: int) -> None:
    moved = uow.connection.execute(
        update(crossing_cursors).where(crossing_cursors.c.source == source).values(last_id=last_id)
    )
    if moved.rowcount == 0:
        uow.connection.execute(insert(crossing_cursors).values(source=source, last_id=last_id))


def tick(alerts: AlertsRuntime) -> list[AlertChange]:
    with alerts.uow() as uow:
        changes = raise_crossing_alerts(uow, alerts.context)
        uow.commit()
    return changes


async def run(alerts: AlertsRuntime, stop: asyncio.Event, interval_s: float = POLL_S) -> None:
    """The background watch: every ``interval_s``, raise what crossed, publish it live."""
    log.info("links.crossing_started")
    while not stop.is_set():
        try:
            changes = await asyncio.to_thread(tick, alerts)
            await alerts.publish_changes(changes)
        except Exception:  # a database hiccup must not end the watch for good
            log.exception("links.crossing_tick_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
