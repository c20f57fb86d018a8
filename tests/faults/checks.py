"""What every fault case asserts from the tables once the system has settled: each acknowledged
fix stored exactly once, one violation and one alert per incursion, every delivery delivered and
received once by the control room."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.alerts.receivers import HttpReceiver
from tests.faults.cluster import wait_for
from tests.faults.world import Sender, Tables, World, expected_counts


def settle_and_check(
    tables: Tables,
    world: World,
    sender: Sender,
    control_room: HttpReceiver,
    logs: Callable[[], str] = str,
    timeout: float = 60,
) -> None:
    incursions = {str(w.person_id) for w in world.incursions()}

    def fixes_detail() -> str:
        return f"; {tables.stored()} stored of {len(sender.acknowledged)} acknowledged" + logs()

    wait_for(lambda: tables.stored() >= len(sender.acknowledged), timeout, "every fix stored",
             fixes_detail)  # fmt: skip
    wait_for(
        lambda: set(tables.zone_alerts()) == incursions,
        timeout,
        "an alert for every incursion",
        lambda: f"; alerts {dict(tables.zone_alerts())}" + logs(),
    )
    wait_for(
        lambda: tables.deliveries() == {("webhook", "delivered"): len(incursions)},
        timeout,
        "every webhook delivered",
        lambda: f"; deliveries {dict(tables.deliveries())}" + logs(),
    )
    time.sleep(1.0)  # anything still to come would be a duplicate
    assert tables.fix_counts() == expected_counts(sender.acknowledged)
    assert tables.zone_violations() == dict.fromkeys(incursions, 1)
    assert tables.zone_alerts() == dict.fromkeys(incursions, 1)
    assert tables.deliveries() == {("webhook", "delivered"): len(incursions)}
    assert sorted(control_room.accepted_keys()) == sorted(tables.delivery_keys("webhook"))
