"""Storing what the engine decides: violations (idempotent by episode id) and its state.

Each function takes a unit of work and does not commit: the worker commits fixes, violations
and state together, so a crash leaves either all of a batch or none of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import Row, insert, or_, select, update

from vigil.db.uow import UnitOfWork
from vigil.engine.core import Engine
from vigil.engine.events import EngineEvent, EventKind
from vigil.engine.ledger import Episode
from vigil.engine.tables import engine_state, violations
from vigil.errors import ValidationError


def _when(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def store_events(uow: UnitOfWork, events: Iterable[EngineEvent]) -> int:
    """Insert or update one violations row per episode; a repeated event changes nothing new."""
    now = uow.clock.now()
    stored = 0
    for event in events:
        values = {
            "person_id": event.person_id,
            "condition_id": event.condition_id,
            "kind": event.kind.value,
            "start": event.start,
            "end": event.end,
            "device_id": event.device_id,
            "fix_ids": json.dumps(list(event.fix_ids)),
            "detail": json.dumps(event.detail, sort_keys=True, default=str),
            "updated_at": now,
        }
        result = uow.connection.execute(
            update(violations).where(violations.c.episode_id == event.episode_id).values(**values)
        )
        if result.rowcount == 0:
            uow.connection.execute(
                insert(violations).values(
                    episode_id=event.episode_id,
                    raised_at=event.raised_at,
                    retrospective=event.retrospective,
                    **values,
                )
            )
        stored += 1
    return stored


def _upsert_state(uow: UnitOfWork, key: str, state: dict[str, Any], due: float | None) -> None:
    values = {
        "state": json.dumps(state, sort_keys=True),
        "due_at": _when(due),
        "updated_at": uow.clock.now(),
    }
    result = uow.connection.execute(
        update(engine_state).where(engine_state.c.key == key).values(**values)
    )
    if result.rowcount == 0:
        uow.connection.execute(insert(engine_state).values(key=key, **values))


def save_state(uow: UnitOfWork, engine: Engine, *, everything: bool = False) -> int:
    """Store the machines and timers that moved (or all of them) so a restart resumes them."""
    persons = range(len(engine.persons)) if everything else sorted(engine.dirty_persons)
    devices = range(len(engine.devices)) if everything else sorted(engine.dirty_devices)
    for person in persons:
        _upsert_state(
            uow,
            f"person:{engine.persons[person]}",
            engine.person_state_json(person),
            engine.next_due(person),
        )
    count = len(persons)
    for index in devices:
        if engine.devices[index].person < 0:
            continue
        _upsert_state(
            uow,
            f"device:{engine.device_names[index]}",
            engine.device_state_json(index),
            engine.device_due(index),
        )
        count += 1
    engine.dirty_persons.clear()
    engine.dirty_devices.clear()
    return count


def restore(uow: UnitOfWork, engine: Engine) -> int:
    """Load stored episodes (open ones, and recent ones a late fix could re-discover) and state."""
    horizon = uow.clock.now() - timedelta(seconds=engine.settings.history_s)
    rows = uow.connection.execute(
        select(violations)
        .where(or_(violations.c.end.is_(None), violations.c.end >= horizon))
        .order_by(violations.c.id)
    )
    restored = 0
    for row in rows:
        engine.ledger.restore(
            Episode(
                id=row.episode_id,
                person=row.person_id,
                condition=row.condition_id,
                kind=EventKind(row.kind),
                start=row.start.timestamp(),
                end=None if row.end is None else row.end.timestamp(),
                raised_at=row.raised_at.timestamp(),
                retrospective=bool(row.retrospective),
                device=row.device_id,
                fix_ids=list(json.loads(row.fix_ids)),
                detail=dict(json.loads(row.detail)),
            )
        )
        restored += 1
    for row in uow.connection.execute(select(engine_state.c.key, engine_state.c.state)):
        kind, _, ident = row.key.partition(":")
        data = json.loads(row.state)
        if kind == "person" and ident in engine.person_index:
            engine.import_person(engine.person_index[ident], data)
        elif kind == "device" and ident in engine.device_index:
            index = engine.device_index[ident]
            if engine.devices[index].person >= 0:
                engine.import_device(index, data)
    engine.after_restore()
    return restored


class ViolationRecord(TypedDict):
    """A violation or device event as the engine stored it: aware UTC datetimes, the ids of the
    stored fixes that prove it, and the engine's reasoning (``detail``)."""

    episode_id: str
    person_id: str
    condition_id: str | None
    kind: str
    device_id: str | None
    start: datetime
    end: datetime | None  # None while open
    raised_at: datetime
    retrospective: bool
    withdrawn: bool
    fix_ids: list[int]
    detail: dict[str, Any]
    updated_at: datetime


def violations_of(uow: UnitOfWork, person_id: str) -> list[ViolationRecord]:
    """Stored violations of one person, oldest first."""
    rows = uow.connection.execute(
        select(violations).where(violations.c.person_id == person_id).order_by(violations.c.start)
    )
    return [_record(row) for row in rows]


def get_violation(uow: UnitOfWork, episode_id: str) -> ViolationRecord | None:
    """One stored violation or event by its episode id, as the engine recorded it, or None.

    For evidence packs, which cite the engine's own record: the condition and kind, start and end,
    when and whether retrospectively it was raised, the engine's reasoning (e.g. which rule
    confirmed an exclusion-zone visit and on what evidence) and the ids of the stored fixes
    (trail store) that prove it.
    """
    if not isinstance(episode_id, str) or not episode_id.strip():
        raise ValidationError("episode_id", "must be a non-empty string")
    row = uow.connection.execute(
        select(violations).where(violations.c.episode_id == episode_id.strip())
    ).first()
    return _record(row) if row is not None else None


def _record(row: Row[Any]) -> ViolationRecord:
    fix_ids = json.loads(row.fix_ids or "[]")
    detail = json.loads(row.detail or "{}")
    return ViolationRecord(
        episode_id=row.episode_id,
        person_id=row.person_id,
        condition_id=row.condition_id,
        kind=row.kind,
        device_id=row.device_id,
        start=row.start,
        end=row.end,
        raised_at=row.raised_at,
        retrospective=bool(row.retrospective),
        withdrawn=bool(detail.get("withdrawn", False)),
        fix_ids=[int(item) for item in fix_ids],
        detail=dict(detail),
        updated_at=row.updated_at,
    )
