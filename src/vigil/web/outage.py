"""What staff are told on every page while this process cannot do all its work.

An operator watching a quiet queue must know whether it is quiet because nothing is happening or
because alerts cannot get through. Read from memory only (the bus's state and the supervisor's),
so the banner costs nothing and still shows when the database is the thing that is down.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.bus.model import Bus
from vigil.supervisor import ServiceStates

# What each background service's absence means to the person reading the page.
CONSEQUENCES = {
    "engine.watch": "positions are not being checked against orders",
    "alerts.raise": "new violations are not becoming alerts",
    "alerts.deliver": "alert messages and calls are not being sent",
    "alerts.escalate": "unacknowledged alerts are not being escalated",
    "gateways.doors": "tags cannot report their positions",
}


@dataclass(frozen=True)
class Outage:
    problems: tuple[str, ...]


def current_outage(bus: Bus, states: ServiceStates) -> Outage | None:
    problems: list[str] = []
    if not bus.is_connected():
        problems.append("the message bus is not connected: live alerts and positions are delayed")
    for name, state in sorted(states.by_name.items()):
        if state.crashes and not state.running:
            meaning = CONSEQUENCES.get(name, "a background job is not running")
            problems.append(f"{meaning} ({name} is restarting after an error)")
    return Outage(tuple(problems)) if problems else None
