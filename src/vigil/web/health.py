"""Liveness and readiness, for a process manager or load balancer to act on.

``/livez`` answers while the process can answer at all (restart it when it cannot). ``/readyz``
answers 200 only when this process can do its work: the database answers, the bus is connected,
every background loop that runs here has turned recently, no background service is waiting to
restart after a crash, alert deliveries are not falling behind, and every bus partition of the
handler groups here has a consumer somewhere (one left unheld past a takeover's time means
fixes nobody evaluates); otherwise 503 naming what is wrong, so traffic goes elsewhere and an
operator is told.
``/healthz`` is the same as ``/readyz`` (older monitors ask for it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from vigil.alerts import outbox
from vigil.bootstrap import Container
from vigil.bus.model import LeaseView
from vigil.logs import get_logger
from vigil.supervisor import ServiceState
from vigil.web.auth import ContainerDep

log = get_logger(__name__)
router = APIRouter(include_in_schema=False)

# A loop that has not turned for this long is stuck (the engine ticks every second).
STALE_LOOP_S = 30.0
# Deliveries due this long ago and still not sent mean the delivery worker is behind or down.
DELIVERY_BEHIND_S = 300.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _database(c: Container) -> tuple[Check, Check | None]:
    try:
        with c.reader() as uow:
            uow.connection.execute(text("SELECT 1"))
            due = outbox.oldest_due(uow, c.clock.now())
    except Exception as exc:  # the point is to report it, not to fail with it
        return Check("database", False, f"{type(exc).__name__}: {exc}"[:300]), None
    behind = 0.0 if due is None else (c.clock.now() - due).total_seconds()
    deliveries = Check(
        "alert_deliveries", behind <= DELIVERY_BEHIND_S, f"oldest due {behind:.0f} s ago"
    )
    return Check("database", True, "answers"), deliveries


def checks(c: Container) -> list[Check]:
    database, deliveries = _database(c)
    found = [database]
    if deliveries is not None:
        found.append(deliveries)
    connected = c.bus.is_connected()
    found.append(Check("bus", connected, "connected" if connected else "not connected"))
    for loop, age in sorted(c.heartbeats.ages_s(c.clock.now()).items()):
        found.append(Check(f"loop:{loop}", age <= STALE_LOOP_S, f"last turned {age:.0f} s ago"))
    found.extend(_service_check(state) for _name, state in sorted(c.service_states.by_name.items()))
    found.extend(_partitions_check(view) for view in c.bus.partition_report().leases)
    return found


def _partitions_check(view: LeaseView) -> Check:
    held = ", ".join(str(p) for p in sorted(view.held)) or "none"
    if view.unconsumed:
        missing = ", ".join(str(p) for p in sorted(view.unconsumed))
        return Check(f"partitions:{view.group}", False, f"held here: {held}; unconsumed: {missing}")
    return Check(f"partitions:{view.group}", True, f"held here: {held}; every partition consumed")


def _service_check(state: ServiceState) -> Check:
    """A service waiting to restart after a crash is not doing its work; one that crashed and
    came back is, but its crashes stay visible."""
    crashed = f"; {state.crashes} crashes, last: {state.last_error}" if state.crashes else ""
    if state.running:
        return Check(f"service:{state.name}", True, "running" + crashed)
    if state.crashes:
        return Check(f"service:{state.name}", False, "restarting" + crashed)
    return Check(f"service:{state.name}", True, "off")


@router.get("/livez")
def live() -> dict[str, str]:
    return {"status": "live"}


@router.get("/readyz")
@router.get("/healthz")
def ready(c: ContainerDep) -> JSONResponse:
    found = checks(c)
    ok = all(check.ok for check in found)
    if not ok:
        failing = [check.name for check in found if not check.ok]
        log.warning("health.not_ready", failing=failing)
    return JSONResponse(
        {"status": "ok" if ok else "not ready", "checks": [asdict(check) for check in found]},
        status_code=200 if ok else 503,
    )
