"""SIGKILL of one of two engine processes on NATS and PostgreSQL: the survivor takes the dead
one's partitions over within 15 s, resumes them after their last acknowledged message, and the
incursions of the dead engine's wearers alert, once each, with every webhook delivered."""

from __future__ import annotations

import time
from pathlib import Path

from tests.alerts.receivers import HttpReceiver
from tests.faults.checks import settle_and_check
from tests.faults.cluster import (
    NatsServer,
    PostgresServer,
    VigilProcess,
    base_env,
    start_all,
    wait_for,
)
from tests.faults.conftest import alert_settings
from tests.faults.world import Sender, Tables, World, script, seed
from vigil.bus.model import partition_of

PARTITIONS = 16
TAKEOVER_S = 15.0


def held(process: VigilProcess) -> set[int]:
    """The fixes partitions the process last said it holds (its ``bus.partitions_changed``)."""
    changes = [
        line
        for line in process.log_lines("bus.partitions_changed")
        if "fixes" in str(line["group"])
    ]
    return {int(p) for p in changes[-1]["held"]} if changes else set()  # type: ignore[attr-defined]


def shared_out(engines: list[VigilProcess], world: World) -> tuple[VigilProcess, VigilProcess]:
    """Wait until the two engines hold the partitions between them; the one to kill (holding
    more of the wearers who walk in after the kill) and the survivor."""
    first, second = engines
    wait_for(
        lambda: (
            held(first) | held(second) == set(range(PARTITIONS))
            and held(first).isdisjoint(held(second))
            and bool(held(first) and held(second))
        ),
        30,
        "the engines to share the partitions out",
        lambda: first.tail() + second.tail(),
    )
    later = [w for w in world.incursions() if w.walks_in == 1]

    def theirs(engine: VigilProcess) -> int:
        mine = held(engine)
        return sum(1 for w in later if partition_of(str(w.person_id), PARTITIONS) in mine)

    victim, survivor = sorted(engines, key=theirs, reverse=True)
    assert theirs(victim), "the killed engine should hold some incursions' wearers"
    return victim, survivor


def test_a_killed_engines_partitions_are_taken_over_within_15_s_and_its_wearers_alert(
    workdir: Path,
    postgres: PostgresServer,
    nats: NatsServer,
    control_room: HttpReceiver,
    processes: list[VigilProcess],
) -> None:
    world = seed(postgres.url, wearers=40, incursions=12)
    env = base_env(postgres.url, nats.url, **alert_settings(control_room))
    front = VigilProcess("front", "web,gateways,alerts", env, workdir)
    engines = [VigilProcess(f"engine-{n}", "engine", env, workdir) for n in range(2)]
    processes.extend([front, *engines])
    start_all(processes)
    victim, survivor = shared_out(engines, world)

    tables = Tables(postgres.url)
    sender = Sender(front.url, world.token)
    # First half: both engines alive, on default settings; each incursion raised once.
    first, second = script(world).halves()
    sender.send(first)
    wait_for(lambda: tables.stored() >= len(first.rows), 30, "the first half to be stored")

    # Killed while the second half flows: a batch it had taken and not acknowledged is handed
    # to the survivor after the ack wait, and must not be stored twice.
    sender.send_in_background(second, pause_s=0.1)
    sender.wait_acknowledged(len(first.rows) + 200)
    victim.kill()
    killed_at = time.monotonic()
    sender.join()
    wait_for(lambda: held(survivor) == set(range(PARTITIONS)), 30, "the takeover", survivor.tail)
    took = time.monotonic() - killed_at
    wait_for(
        lambda: tables.stored() >= len(sender.acknowledged), 30, "every fix to be stored",
        survivor.tail,
    )  # fmt: skip
    stored_after = time.monotonic() - killed_at
    assert took <= TAKEOVER_S, f"takeover took {took:.1f} s"
    print(f"takeover {took:.1f} s; every fix stored {stored_after:.1f} s after the kill")
    settle_and_check(tables, world, sender, control_room, lambda: survivor.tail() + front.tail())
    tables.dispose()
