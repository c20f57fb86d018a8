"""The live engine takes the heap its process started with out of the garbage collector's full
passes, so fixes in flight do not make every full pass walk the whole application again."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from vigil.bootstrap import Container
from vigil.bus.model import Topic
from vigil.engine import runner as engine_runner


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def _tracked(thing: object) -> bool:
    """Whether the collector's generations hold ``thing`` (frozen objects are in none)."""
    return any(candidate is thing for candidate in gc.get_objects())


async def test_the_running_engine_freezes_what_was_alive_when_it_started(
    container: Container, unfrozen: None
) -> None:
    alive_at_start = [["a", "start-up", "structure"]]
    stop = asyncio.Event()
    task = asyncio.create_task(engine_runner.run(container, stop))
    for _ in range(100):
        await asyncio.sleep(0.05)
        if container.bus._handlers.get(Topic.FIXES):  # type: ignore[attr-defined]
            break
    stop.set()
    await task
    assert gc.get_freeze_count() > 0
    assert not _tracked(alive_at_start)


def test_the_heap_is_frozen_once_a_process_and_later_objects_stay_collectable(
    unfrozen: None,
) -> None:
    engine_runner.settle_the_heap()
    frozen = gc.get_freeze_count()
    later = [["made", "after", "start-up"]]
    engine_runner.settle_the_heap()  # a supervised restart of the engine service
    assert gc.get_freeze_count() == frozen
    assert _tracked(later)
