"""A violation as the live system makes one: demo person 1 walks through their exclusion zone,
the engine worker stores the fixes and its violation record, the alerts part raises the alert and
the escalation timer escalates it twice unanswered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from vigil.alerts import escalation, raising
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.engine.events import EngineEvent
from vigil.engine.runner import EngineWorker
from vigil.evidence import packs
from vigil.security.model import Principal, Role
from vigil.sim.demo import seed_demo
from vigil.tracking.model import Fix

OPERATOR = Principal(id=21, name="operator", role=Role.MONITORING_OPERATOR)
ZONE_LAT, ZONE_LON = 52.472259, -1.797393  # demo person 1's exclusion zone (condition 2)
DEVICE = "357588032098371"


@dataclass(frozen=True)
class Walked:
    episode_id: str
    events: list[EngineEvent]


def walk_through_the_zone(container: Container, clock: FrozenClock) -> Walked:
    """Forty minutes in, forty out, a fix a minute 1.2 km south-west to the centre and back."""
    seed_demo(container)
    worker = EngineWorker(container)
    worker.load_plan()
    events: list[EngineEvent] = []
    for minute in range(-40, 41):
        k = abs(minute) / 40
        fix = Fix(
            device_id=DEVICE,
            fix_time=clock.now(),
            receive_time=clock.now() + timedelta(seconds=2),
            lat=ZONE_LAT - 0.011 * k,
            lon=ZONE_LON - 0.011 * k,
            protocol="teltonika",
            accuracy_m=8.0,
            battery_pct=70 - minute / 10,
            raw=f"00000000000000360801{minute + 50:02d}ABCDEF",
        )
        events += worker.handle([fix])
        events += worker.tick()
        clock.advance(timedelta(minutes=1))
    with container.uow() as uow:
        for event in events:
            raising.handle_event(uow, event, container.alerts.context)
        uow.commit()
    for _ in range(3):
        clock.advance(timedelta(minutes=3))
        escalation.tick(container.alerts)
    episode = next(e.episode_id for e in events if e.kind.value == "exclusion_zone")
    return Walked(episode, events)


def signed_pack(container: Container, episode_id: str, person_id: str = "1") -> packs.PackResult:
    with container.uow() as uow:
        result = packs.create_pack(
            uow,
            OPERATOR,
            container.settings,
            person_id=person_id,
            violation_id=episode_id,
            reason="Recall request to the court",
        )
        uow.commit()
    return result
