"""A database outage under the delivery worker: its rounds fail, and it waits longer after each
failure (up to a cap) instead of failing and logging every poll."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import create_engine

from vigil.alerts.worker import ROUND_BACKOFF_CAP_S, DeliveryWorker, round_wait_s
from vigil.bootstrap import Container
from vigil.db.uow import UnitOfWork


def test_failed_rounds_wait_longer_each_time_up_to_the_cap() -> None:
    assert round_wait_s(0.2, 0) == 0.2
    assert [round_wait_s(0.2, n) for n in (1, 2, 3)] == [0.4, 0.8, 1.6]
    assert round_wait_s(0.2, 50) == ROUND_BACKOFF_CAP_S
    assert round_wait_s(30.0, 1) == 30.0  # never quicker than the configured poll


async def test_a_worker_whose_database_is_down_backs_off(
    sqlite_container: Container, tmp_path: Path
) -> None:
    # A database that cannot be opened: every claim fails as it would in an outage.
    gone = create_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'vigil.db'}")
    clock = sqlite_container.clock
    rounds: list[int] = []

    def unit_of_work() -> UnitOfWork:
        rounds.append(1)  # each round opens one to claim, and fails there
        return UnitOfWork(gone, clock)

    sqlite_container.alerts.uow = unit_of_work
    settings = sqlite_container.alerts.settings.model_copy(update={"outbox_poll_s": 0.05})
    sqlite_container.alerts.settings = settings
    worker = DeliveryWorker(sqlite_container.alerts, name="outage")
    stop = asyncio.Event()
    loop = asyncio.create_task(worker._channel_loop("webhook", stop))
    await asyncio.sleep(2.0)
    stop.set()
    await asyncio.wait_for(loop, 10)
    # Polling every 0.05 s would be 40 rounds; 0.1 + 0.2 + 0.4 + 0.8 s leaves room for about 5.
    # (Counted by the rounds themselves, not the log lines: which logger a module holds depends
    # on what ran before it in the suite.)
    assert 3 <= len(rounds) <= 6, len(rounds)
