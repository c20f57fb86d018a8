"""The monitoring centre finds refused devices: the quarantine page and API, and who reads it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import START
from tests.gateways.fitting import door_intake
from tests.people.registry import as_user, build_registry
from vigil.bootstrap import Container
from vigil.bus.memory import InMemoryBus
from vigil.gateways.metrics import GatewayMetrics
from vigil.tracking.model import Fix


def _report(device: str, minutes_ago: int) -> Fix:
    at = START - timedelta(minutes=minutes_ago)
    return Fix(
        device_id=device,
        fix_time=at,
        receive_time=START,
        lat=52.48,
        lon=-1.89,
        protocol="osmand",
        accuracy_m=10.0,
        raw=f"id={device}&lat=52.48&lon=-1.89",
    )


async def _refuse(container: Container) -> None:
    bus = InMemoryBus()
    intake, _keys = door_intake(bus, GatewayMetrics(), container, ["fitted-tag"])
    fixes = [_report("356938035643809", m) for m in (3, 2, 1)] + [_report("fitted-tag", 1)]
    screened = await intake.publish("osmand", fixes)
    assert len(screened.good) == 1
    await bus.close()


def test_the_centre_sees_refused_devices_and_officers_do_not(
    client: TestClient, container: Container
) -> None:
    build_registry(container)
    client.portal.call(_refuse, container)  # type: ignore[union-attr]

    as_user(client, "operator")
    [refused] = client.get("/api/gateways/quarantine").json()
    assert refused["device_id"] == "356938035643809"
    assert (refused["protocol"], refused["reason"], refused["frames"]) == (
        "osmand",
        "unknown_device",
        3,
    )
    assert refused["last_raw"] == "id=356938035643809&lat=52.48&lon=-1.89"
    page = client.get("/devices/refused")
    assert page.status_code == 200
    assert "356938035643809" in page.text
    assert "not registered" in page.text
    assert client.get("/api/gateways/quarantine?hours=0").status_code == 422

    for role in ("officer", "police.wmp", "analyst"):
        as_user(client, role)
        assert client.get("/api/gateways/quarantine").status_code == 403, role
        assert client.get("/devices/refused").status_code == 403, role


@pytest.mark.parametrize("hours", [1, 24 * 90])
def test_the_window_counts_back_from_now(
    client: TestClient, container: Container, hours: int
) -> None:
    build_registry(container)
    client.portal.call(_refuse, container)  # type: ignore[union-attr]
    as_user(client, "admin")
    assert len(client.get(f"/api/gateways/quarantine?hours={hours}").json()) == 1
