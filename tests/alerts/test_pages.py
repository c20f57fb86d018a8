"""The alert queue and alert pages through a logged-in browser session (real forms, CSRF)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.alerts.conftest import Registry, add_user, event, handle
from tests.conftest import log_in
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.security.model import Role

PASSWORD = "a-long-enough-password-123"


def test_operator_sees_the_queue_and_works_an_alert_through_the_pages(
    client: TestClient, container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    [raised] = handle(container, event(registry.high_risk_person, at=weekday_morning.now()))
    add_user(container, "op1", Role.MONITORING_OPERATOR)
    csrf = log_in(client, "op1", PASSWORD)
    queue = client.get("/alerts")
    assert queue.status_code == 200
    assert f'href="/alerts/{raised.alert_id}"' in queue.text
    assert "critical" in queue.text
    ack = client.post(
        f"/alerts/{raised.alert_id}/acknowledge",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert ack.status_code == 303
    missing = client.post(
        f"/alerts/{raised.alert_id}/resolve",
        data={"csrf_token": csrf, "outcome": "", "note": ""},
    )
    assert missing.status_code == 422
    assert "Outcome: is required to resolve an alert" in missing.text
    done = client.post(
        f"/alerts/{raised.alert_id}/resolve",
        data={"csrf_token": csrf, "outcome": "false_alert", "note": "Drift at the boundary"},
    )
    assert done.status_code == 200
    assert "false alert: Drift at the boundary" in done.text
    assert "No open alerts." in client.get("/alerts").text


def test_officer_of_another_team_cannot_open_the_alert_page(
    client: TestClient, container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    [raised] = handle(container, event(registry.high_risk_person, at=weekday_morning.now()))
    add_user(container, "po2", Role.PROBATION_OFFICER, team_id=registry.other_team_id)
    log_in(client, "po2", PASSWORD)
    assert client.get(f"/alerts/{raised.alert_id}").status_code == 404
    assert f'href="/alerts/{raised.alert_id}"' not in client.get("/alerts").text
