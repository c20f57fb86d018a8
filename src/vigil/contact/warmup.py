"""Background service: load the enforcement index at start-up, off the event loop.

The full load of a large index takes a while (a minute or more for 2,000,000 barred items on a
busy machine); until it is done the call and mail checks ask the database instead, so nothing
is refused or allowed wrongly while it warms. Listed in ``contact.runner``.
"""

from __future__ import annotations

import asyncio
import threading
import time

from sqlalchemy import Engine

from vigil.contact.index import EnforcementIndex
from vigil.logs import get_logger

log = get_logger(__name__)


def warm(
    index: EnforcementIndex, engine: Engine, stop: threading.Event | None = None
) -> EnforcementIndex:
    """Load the process's index now (blocking); returns it, warm unless ``stop`` was set."""
    started = time.perf_counter()
    with engine.connect() as connection:
        done = index.load(connection, stop)
    if done:
        log.info(
            "contact.index.warm",
            items=len(index),
            seconds=round(time.perf_counter() - started, 1),
            phone_bytes=index.phone_table.nbytes,
        )
    return index


async def run(index: EnforcementIndex, engine: Engine, stop: asyncio.Event) -> None:
    halt = threading.Event()
    loading = asyncio.ensure_future(asyncio.to_thread(warm, index, engine, halt))
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({loading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not loading.done():
        # Shutting down part way through: let the loader see the flag and return.
        halt.set()
    try:
        await loading
    except Exception as exc:  # the checks keep using the database; say why
        log.error("contact.index.failed", error=repr(exc))
    stopping.cancel()
