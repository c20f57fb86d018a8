"""Counters in the database, shared by every web process: a fixed-window rate limit for the public
form, and sign-in throttling with growing delays.

In one process's memory a limit is multiplied by the number of processes and forgotten at each
restart; in the database every process sees the same count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from vigil.db.uow import UnitOfWork
from vigil.security.tables import throttle_counters

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _window_start(now: datetime, window: timedelta) -> datetime:
    windows = (now - EPOCH) // window
    return EPOCH + windows * window


def _ensure_row(conn: Connection, key: str, now: datetime) -> None:
    if conn.execute(select(throttle_counters.c.key).where(throttle_counters.c.key == key)).first():
        return
    try:
        with conn.begin_nested():
            conn.execute(
                insert(throttle_counters).values(
                    key=key, window_start=now, hits=0, failures=0, blocked_until=None
                )
            )
    except IntegrityError:
        pass  # another process made it first: the row is there either way


def hit(conn: Connection, key: str, now: datetime, limit: int, window: timedelta) -> bool:
    """Count one request under ``key``; False when the window already holds ``limit``."""
    start = _window_start(now, window)
    _ensure_row(conn, key, start)
    # A row from an earlier window starts again at zero; then one atomic increment.
    conn.execute(
        update(throttle_counters)
        .where(throttle_counters.c.key == key, throttle_counters.c.window_start != start)
        .values(window_start=start, hits=0)
    )
    conn.execute(
        update(throttle_counters)
        .where(throttle_counters.c.key == key)
        .values(hits=throttle_counters.c.hits + 1)
    )
    hits = conn.execute(
        select(throttle_counters.c.hits).where(throttle_counters.c.key == key)
    ).scalar_one()
    return int(hits) <= limit


class SharedRateLimiter:
    """A per-client limit of ``limit`` posts per ``window``, counted in the database."""

    def __init__(
        self, uows: Callable[[], UnitOfWork], bucket: str, limit: int, window: timedelta
    ) -> None:
        self._uows = uows
        self.bucket = bucket
        self.limit = limit
        self.window = window

    def allow(self, client: str) -> bool:
        key = f"{self.bucket}:{client}"[:200]
        with self._uows() as uow:
            allowed = hit(uow.connection, key, uow.clock.now(), self.limit, self.window)
            uow.commit()
        return allowed


# --- sign-in throttling -----------------------------------------------------------------------

# Failures allowed before any delay; then each further failure doubles the wait, up to the cap.
FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=15)
# At this many consecutive failures the account is reported as locked (audit and the user).
LOCKOUT_FAILURES = 10


@dataclass(frozen=True)
class Block:
    until: datetime
    failures: int


def blocked(conn: Connection, keys: list[str], now: datetime) -> Block | None:
    """The longest block in force on any of ``keys`` (an account, a client), if any."""
    rows = conn.execute(
        select(throttle_counters.c.blocked_until, throttle_counters.c.failures).where(
            throttle_counters.c.key.in_(keys),
            throttle_counters.c.blocked_until.is_not(None),
            throttle_counters.c.blocked_until > now,
        )
    ).all()
    if not rows:
        return None
    until, failures = max((r.blocked_until, r.failures) for r in rows)
    return Block(until, int(failures))


def delay_after(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    delay: timedelta = FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 20)
    return min(MAX_DELAY, delay)


def record_failure(conn: Connection, key: str, now: datetime) -> int:
    """One more consecutive failure under ``key``; sets its block; returns the failure count."""
    _ensure_row(conn, key, now)
    conn.execute(
        update(throttle_counters)
        .where(throttle_counters.c.key == key)
        .values(failures=throttle_counters.c.failures + 1)
    )
    failures = int(
        conn.execute(
            select(throttle_counters.c.failures).where(throttle_counters.c.key == key)
        ).scalar_one()
    )
    wait = delay_after(failures)
    conn.execute(
        update(throttle_counters)
        .where(throttle_counters.c.key == key)
        .values(blocked_until=now + wait if wait else None)
    )
    return failures


def clear(conn: Connection, key: str) -> None:
    conn.execute(
        update(throttle_counters)
        .where(throttle_counters.c.key == key)
        .values(failures=0, blocked_until=None)
    )
