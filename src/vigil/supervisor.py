"""One supervised runner for every background service.

A service is a name and ``async def run(stop)``. The supervisor runs each until ``stop`` is set;
a service that raises (or returns while the process is still running) is logged with its
exception, counted, and started again after a backoff that doubles up to a cap, so one bad
message or a database restart never leaves a part silently dead until the next deploy. Each
service's state is kept for the health checks and metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from vigil.clock import Clock
from vigil.logs import get_logger

log = get_logger(__name__)

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 60.0


@dataclass(frozen=True)
class Service:
    name: str
    """``<part>.<job>``, e.g. ``alerts.deliver``: the name in logs, health and metrics."""
    run: Callable[[asyncio.Event], Awaitable[None]]


@dataclass
class ServiceState:
    name: str
    running: bool = False
    crashes: int = 0
    last_error: str = ""
    last_crash_at: datetime | None = None


@dataclass
class ServiceStates:
    """What every supervised service of this process is doing; read by /readyz and /metrics."""

    by_name: dict[str, ServiceState] = field(default_factory=dict)

    def of(self, name: str) -> ServiceState:
        return self.by_name.setdefault(name, ServiceState(name))


def backoff_s(crashes: int, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S) -> float:
    """1, 2, 4 … seconds after the 1st, 2nd, 3rd crash in a row, never more than ``cap``."""
    return float(min(cap, base * 2 ** max(0, crashes - 1)))


async def supervise(
    service: Service,
    stop: asyncio.Event,
    states: ServiceStates,
    clock: Clock,
    *,
    backoff_base: float = BACKOFF_BASE_S,
    backoff_cap: float = BACKOFF_CAP_S,
) -> None:
    state = states.of(service.name)
    loop = asyncio.get_running_loop()
    in_a_row = 0
    while not stop.is_set():
        started = loop.time()
        if not await _run_once(service, stop, state, clock):
            return
        # A service that ran a good while before crashing starts its backoff afresh.
        in_a_row = 1 if loop.time() - started > backoff_cap else in_a_row + 1
        delay = backoff_s(in_a_row, backoff_base, backoff_cap)
        log.warning("service.restarting", service=service.name, in_s=delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
    state.running = False


async def _run_once(
    service: Service, stop: asyncio.Event, state: ServiceState, clock: Clock
) -> bool:
    """Run the service once; True when it crashed (and should start again)."""
    state.running = True
    log.info("service.started", service=service.name)
    try:
        await service.run(stop)
    except Exception as exc:
        state.crashes += 1
        state.last_error = f"{type(exc).__name__}: {exc}"[:500]
        state.last_crash_at = clock.now()
        log.exception("service.crashed", service=service.name, crashes=state.crashes)
        return True
    finally:
        state.running = False
    # Services run until told to stop, or return at once when their settings switch them off,
    # which is not a crash.
    if not stop.is_set():
        log.info("service.finished", service=service.name)
    return False
