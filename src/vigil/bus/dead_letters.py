"""Dead letters: stored by the bus, listed and replayed by an operator.

A replay is asked for in the database (by the command line or the admin page, from any process)
and carried out by the running process that owns the bus, so it works the same on the in-process
bus, which another process cannot publish to, and on NATS.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, insert, select, update

from vigil.bus.codec import CodecError, decode
from vigil.bus.model import Bus, Topic
from vigil.bus.tables import bus_dead_letters as table
from vigil.db.uow import UnitOfWork
from vigil.errors import NotFound
from vigil.logs import get_logger
from vigil.security import audit, permissions
from vigil.security.model import Principal

log = get_logger(__name__)

REPLAY_POLL_S = 2.0


@dataclass(frozen=True)
class DeadLetter:
    id: int
    topic: str
    payload: bytes
    error: str
    failed_at: datetime
    replay_requested_at: datetime | None
    replay_requested_by: str | None
    replayed_at: datetime | None

    @property
    def status(self) -> str:
        if self.replayed_at is not None:
            return "replayed"
        return "replay requested" if self.replay_requested_at is not None else "waiting"


class StoredDeadLetters:
    """The bus's dead-letter sink, writing each letter in its own committed transaction."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self._unit_of_work = unit_of_work

    async def put(self, topic: Topic, payload: bytes, error: str) -> None:
        await asyncio.to_thread(self._put, topic, payload, error)

    def _put(self, topic: Topic, payload: bytes, error: str) -> None:
        with self._unit_of_work() as uow:
            uow.connection.execute(
                insert(table).values(
                    topic=topic.value,
                    payload=payload,
                    error=error[:4000],
                    failed_at=uow.clock.now(),
                )
            )
            uow.commit()


def _letter(row: object) -> DeadLetter:
    return DeadLetter(**{name: getattr(row, name) for name in DeadLetter.__dataclass_fields__})


def count_waiting(uow: UnitOfWork) -> int:
    query = select(func.count()).select_from(table).where(table.c.replayed_at.is_(None))
    return int(uow.connection.execute(query).scalar_one())


def list_dead_letters(uow: UnitOfWork, principal: Principal, limit: int = 100) -> list[DeadLetter]:
    """The newest first."""
    principal.require(permissions.DEAD_LETTERS)
    rows = uow.connection.execute(select(table).order_by(table.c.id.desc()).limit(limit))
    return [_letter(row) for row in rows]


def get_dead_letter(uow: UnitOfWork, principal: Principal, letter_id: int) -> DeadLetter:
    principal.require(permissions.DEAD_LETTERS)
    row = uow.connection.execute(select(table).where(table.c.id == letter_id)).first()
    if row is None:
        raise NotFound(f"dead letter {letter_id}")
    return _letter(row)


def request_replay(uow: UnitOfWork, principal: Principal, letter_id: int) -> None:
    letter = get_dead_letter(uow, principal, letter_id)
    if letter.replayed_at is not None:
        return
    now = uow.clock.now()
    uow.connection.execute(
        update(table)
        .where(table.c.id == letter_id)
        .values(replay_requested_at=now, replay_requested_by=principal.actor)
    )
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="bus.dead_letter.replay_requested",
        subject_type="dead_letter",
        subject_id=letter_id,
        detail={"topic": letter.topic},
    )


def _take_requests(uow: UnitOfWork) -> list[DeadLetter]:
    query = select(table).where(
        table.c.replay_requested_at.is_not(None), table.c.replayed_at.is_(None)
    )
    return [_letter(row) for row in uow.connection.execute(query.order_by(table.c.id))]


def _key(message: object) -> str | None:
    device_id = getattr(message, "device_id", None)
    return device_id if isinstance(device_id, str) else None


async def replay_requested(unit_of_work: Callable[[], UnitOfWork], bus: Bus) -> int:
    """Publish every letter whose replay was asked for; returns how many went back on the bus.

    A letter is marked replayed only after the bus took it; one that is still unreadable stays
    asked-for no longer, with the reason in the log.
    """
    with unit_of_work() as uow:
        letters = _take_requests(uow)
    replayed = 0
    for letter in letters:
        try:
            message = decode(letter.payload)
        except CodecError as exc:
            log.error("bus.dead_letter_unreadable", letter=letter.id, error=str(exc))
            values: dict[str, object] = {"replay_requested_at": None}
        else:
            await bus.publish(Topic(letter.topic), [message], key=_key(message))
            replayed += 1
            values = {}
        with unit_of_work() as uow:
            values = values or {"replayed_at": uow.clock.now()}
            uow.connection.execute(update(table).where(table.c.id == letter.id).values(**values))
            uow.commit()
    return replayed


class _Runtime(Protocol):
    bus: Bus

    def uow(self) -> UnitOfWork: ...


async def run(container: _Runtime, stop: asyncio.Event) -> None:
    """Background service: carry out replays that operators asked for."""
    while not stop.is_set():
        try:
            await replay_requested(container.uow, container.bus)
        except Exception:  # the database may be down; try again on the next round
            log.exception("bus.dead_letter_replay_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=REPLAY_POLL_S)


def purge_before(uow: UnitOfWork, before: datetime, actor: str) -> int:
    """Retention: forget letters that failed before ``before`` and were replayed since; one still
    waiting is kept, since no one has dealt with it yet."""
    return audit.delete_for_retention(
        uow, table, table.c.failed_at < before, table.c.replayed_at.is_not(None),
        before=before, actor=actor,
    )  # fmt: skip
