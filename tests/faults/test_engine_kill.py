"""SIGKILL of one of two engine processes on NATS and PostgreSQL: the survivor takes the dead
one's partitions over within 15 s, resumes them after their last acknowledged message, and the
incursions of the dead engine's wearers alert, once each, with every webhook delivered."""

from __future__ import annotations

import time
from pathlib import Path

from tests.alerts.receivers import HttpReceiver
from tests.faults.cluster import NatsServer, PostgresServer, VigilProcess, base_env, wait_for
from tests.faults.conftest import alert_settings
from tests.faults.world import Sender, Tables, expected_counts, script, seed
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
    for process in processes:
        process.start(wait=False)
    for process in processes:
        process.wait_live()
    wait_for(
        lambda: (
            held(engines[0]) | held(engines[1]) == set(range(PARTITIONS))
            and held(engines[0]).isdisjoint(held(engines[1]))
            and all(held(e) for e in engines)
        ),
        30,
        "the engines to share the partitions out",
        lambda: engines[0].tail() + engines[1].tail(),
    )
    # The victim: the engine holding more of the wearers who walk in after the kill.
    later = [w for w in world.incursions() if w.walks_in == 1]

    def theirs(engine: VigilProcess) -> list[int]:
        return [
            w.person_id for w in later if partition_of(str(w.person_id), PARTITIONS) in held(engine)
        ]

    victim, survivor = sorted(engines, key=lambda e: len(theirs(e)), reverse=True)
    assert theirs(victim), "the killed engine should hold some incursions' wearers"

    tables = Tables(postgres.url)
    sender = Sender(front.url, world.token)
    # First half: both engines alive, on default settings; each incursion raised once.
    first, second = script(world).halves()
    sender.send(first)
    wait_for(lambda: tables.stored() >= len(first.rows), 30, "the first half to be stored")

    # Killed while the second half flows: a batch it had taken and not acknowledged is handed
    # to the survivor after the ack wait, and must not be stored twice.
    sender.send_in_background(second, pause_s=0.1)
    wait_for(lambda: len(sender.acknowledged) >= len(first.rows) + 200, 30, "the second half")
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
    incursion_people = {str(w.person_id) for w in world.incursions()}
    wait_for(
        lambda: set(tables.zone_alerts()) == incursion_people,
        30,
        "an alert for every incursion",
        lambda: f"; alerts {tables.zone_alerts()}" + survivor.tail() + front.tail(),
    )
    wait_for(
        lambda: len(control_room.accepted_keys()) >= len(incursion_people),
        30,
        "the control room's webhooks",
    )
    time.sleep(1.0)  # anything still to come would be a duplicate

    assert took <= TAKEOVER_S, f"takeover took {took:.1f} s"
    assert tables.fix_counts() == expected_counts(sender.acknowledged)
    assert tables.zone_violations() == dict.fromkeys(incursion_people, 1)
    assert tables.zone_alerts() == dict.fromkeys(incursion_people, 1)
    assert tables.deliveries() == {("webhook", "delivered"): len(incursion_people)}
    assert set(control_room.accepted_keys()) == tables.delivery_keys("webhook")
    print(f"takeover {took:.1f} s; every fix stored {stored_after:.1f} s after the kill")
    tables.dispose()
