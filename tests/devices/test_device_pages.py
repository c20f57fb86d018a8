"""The devices page shows the reporting rate each tag was last asked for (adaptive reporting)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.people.registry import as_user, build_registry
from vigil.bootstrap import Container


def test_the_devices_page_shows_the_reporting_rate_a_tag_was_last_asked_for(
    client: TestClient, container: Container
) -> None:
    build_registry(container)
    admin = as_user(client, "operator")
    client.post("/api/devices", json={"external_id": "TAG-7", "type": "gps_tag"}, headers=admin)
    queue = container.device_commands
    queue.request("TAG-7", fast=True, now=container.clock.now())
    queue.take("TAG-7", "teltonika", container.clock.now())
    page = client.get("/devices").text
    assert "every 10 s (near a zone): sent (teltonika)" in page
