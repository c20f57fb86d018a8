"""A proximity alert says how far apart the wearer and the protected person were, with the time
of each side's fix: on the queue, on the alert page (local time) and in the API (UTC)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import log_in
from tests.demo_pilot import person_in, raise_alert
from vigil.alerts import raising
from vigil.bootstrap import Container
from vigil.engine.events import EngineEvent, EventKind, EventPhase
from vigil.sim.demo import DEMO_PASSWORD


def _raise_proximity(demo: Container, person_id: int) -> int:
    now = demo.clock.now()  # 09:00 UTC in winter: 09:00 GMT
    event = EngineEvent(
        episode_id="ep-proximity-distance",
        person_id=str(person_id),
        condition_id=None,
        kind=EventKind.PROXIMITY,
        phase=EventPhase.STARTED,
        start=now,
        end=None,
        raised_at=now,
        detail={
            "distance_m": 212.4,
            "wearer_fix_at": (now - timedelta(seconds=40)).isoformat().replace("+00:00", "Z"),
            "protected_fix_at": now.isoformat().replace("+00:00", "Z"),
        },
    )
    with demo.uow() as uow:
        changes = raising.handle_event(uow, event, demo.alerts.context)
        uow.commit()
    return changes[0].alert_id


def test_the_distance_and_both_fix_times_show_on_the_queue_the_alert_and_in_the_api(
    demo: Container, demo_client: TestClient
) -> None:
    alert_id = _raise_proximity(demo, person_in(demo, "Birmingham North").id)
    now = demo.clock.now()
    wearer_at = (now - timedelta(seconds=40)).strftime("%H:%M:%S")
    log_in(demo_client, "operator", DEMO_PASSWORD)
    queue = demo_client.get("/alerts/queue").text.split(f'data-alert-id="{alert_id}"')[1]
    row = queue.split("</tr>")[0]
    assert "212 m apart" in row
    assert f"wearer {wearer_at}, protected person {now:%H:%M:%S} GMT" in row
    page = demo_client.get(f"/alerts/{alert_id}").text
    assert "<strong>212 metres</strong> from the protected person" in page
    assert f"the wearer's position at {wearer_at} GMT" in page
    api = demo_client.get(f"/api/alerts/{alert_id}").json()
    assert api["proximity"] == {
        "distance_m": 212.4,
        "wearer_fix_at": (now - timedelta(seconds=40)).isoformat().replace("+00:00", "Z"),
        "protected_fix_at": now.isoformat().replace("+00:00", "Z"),
    }


def test_other_alerts_carry_no_distance(demo: Container, demo_client: TestClient) -> None:
    alert_id = raise_alert(demo, person_in(demo, "Birmingham North").id, EventKind.CURFEW)
    log_in(demo_client, "operator", DEMO_PASSWORD)
    assert demo_client.get(f"/api/alerts/{alert_id}").json()["proximity"] is None
    assert 'data-testid="distance"' not in demo_client.get(f"/alerts/{alert_id}").text
