"""OsmAnd and OwnTracks through the real app, the OsmAnd port, bulk import, and real MQTT."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from datetime import UTC, datetime

import aiomqtt
import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import FIXTURES, require_service
from tests.gateways.fitting import door_intake, fit_devices, quarantined
from vigil.bootstrap import Container
from vigil.bus.memory import InMemoryBus
from vigil.bus.model import Topic
from vigil.clock import FrozenClock
from vigil.gateways import runner as gateway_runner
from vigil.gateways.http_door import OSMAND, HttpDoor
from vigil.gateways.metrics import GatewayMetrics
from vigil.gateways.mqtt import run_subscriber
from vigil.security import machine_tokens
from vigil.tracking.model import Alarm, Fix

CLOCK = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))


def _collect(container: Container) -> list[Fix]:
    received: list[Fix] = []

    async def handler(batch: list[Fix]) -> None:
        received.extend(batch)

    container.bus.subscribe(Topic.FIXES, handler)
    return received


def _drain(client: TestClient, container: Container) -> None:
    bus = container.bus
    assert isinstance(bus, InMemoryBus)
    client.portal.call(bus.drain)  # type: ignore[union-attr]


def test_the_web_app_has_no_device_doors(client: TestClient) -> None:
    """Devices come in through their own listeners; the staff app answers them nothing."""
    osmand_query = "/gateways/osmand?id=902064&lat=42.06288&lon=-88.23412"
    assert client.get(osmand_query).status_code == 404
    assert client.post(osmand_query).status_code == 404
    headers = {"X-Limit-U": "alice", "X-Limit-D": "phone"}
    assert client.post("/gateways/owntracks", content=b"{}", headers=headers).status_code == 404


async def test_osmand_and_owntracks_come_in_through_their_own_http_doors(
    container: Container,
) -> None:
    container.settings = container.settings.model_copy(
        update={
            "gateway_tcp_ports": "",
            "gateway_osmand_port": 0,
            "gateway_owntracks_port": 0,
            "gateway_hosts": "owntracks=127.0.0.2",  # a door on an interface of its own
        }
    )
    received = _collect(container)
    keys = fit_devices(container, ["902064", "alice/phone", "bob/tablet"])
    running = await gateway_runner.start(container, mqtt=False)
    osmand_url = f"http://127.0.0.1:{running.port('osmand')}"
    owntracks_url = f"http://127.0.0.2:{running.port('owntracks')}"
    assert running.servers["owntracks"].sockets[0].getsockname()[0] == "127.0.0.2"
    assert running.servers["osmand"].sockets[0].getsockname()[0] == "127.0.0.1"
    try:
        async with httpx.AsyncClient() as http:
            ok = await http.get(
                f"{osmand_url}/{keys['902064']}?id=902064&lat=42.06288&lon=-88.23412"
                "&timestamp=2016-01-27T18%3A55%3A47Z&hdop=6.0&speed=1.0"
            )
            assert ok.status_code == 200
            bad = await http.get(f"{osmand_url}/?lat=1&lon=2")
            assert bad.status_code == 400
            assert "id" in bad.text
            impossible = await http.post(f"{osmand_url}/?id=1&lat=123&lon=2")
            assert impossible.status_code == 400
            body = (FIXTURES / "owntracks" / "test" / "location-5s.json").read_bytes()
            headers = {"X-Limit-U": "alice", "X-Limit-D": "phone"}
            alice = ("alice", keys["alice/phone"])
            ot = await http.post(owntracks_url, content=body, headers=headers, auth=alice)
            assert ot.status_code == 200
            assert ot.json() == []
            checked_in = await http.post(f"{owntracks_url}/?u=alice&d=phone", content=b"")
            assert checked_in.json() == []
            # Someone who knows only the device's name cannot report as it.
            forged = await http.post(owntracks_url, content=body, headers=headers)
            assert forged.status_code == 401
            lat_missing = FIXTURES / "owntracks" / "test" / "location-lat-missing.json"
            rejected = await http.post(
                f"{owntracks_url}/?u=a&d=b", content=lat_missing.read_bytes()
            )
            assert rejected.status_code == 400
            assert "lat" in rejected.text
            # The app's basic-auth user names the device when the X-Limit headers are absent.
            basic = await http.post(
                f"{owntracks_url}/?d=tablet", content=body, auth=("bob", keys["bob/tablet"])
            )
            assert basic.status_code == 200
            # A device nobody registered is refused, and kept where the centre can find it.
            stranger = await http.get(f"{osmand_url}/?id=999999&lat=52.4&lon=-1.9")
            assert stranger.status_code == 403
            strange_phone = await http.post(f"{owntracks_url}/?u=eve&d=phone", content=body)
            assert strange_phone.status_code == 403
        await container.bus.drain()  # type: ignore[attr-defined]
    finally:
        await running.close()
    assert [f.device_id for f in received] == ["902064", "alice/phone", "bob/tablet"]
    assert quarantined(container) == [
        ("owntracks", "alice/phone", "bad_device_key"),
        ("osmand", "999999", "unknown_device"),
        ("owntracks", "eve/phone", "unknown_device"),
    ]
    osm, ot_fix, _ = received
    assert osm.fix_time == datetime(2016, 1, 27, 18, 55, 47, tzinfo=UTC)
    assert osm.accuracy_m == 30.0
    assert osm.speed_mps == pytest.approx(0.514, abs=1e-3)
    assert ot_fix.accuracy_m == 9.0


def test_bulk_json_csv_and_gpx_need_a_gateway_token_and_are_all_or_nothing(
    client: TestClient, container: Container
) -> None:
    received = _collect(container)
    fit_devices(container, ["TAG1", "TAG2", "PHONE"])
    with container.uow() as uow:
        token = machine_tokens.create_token(uow, role="device_gateway", name="backfill")
        uow.commit()
    auth = {"Authorization": f"Bearer {token}"}
    batch = {
        "fixes": [
            {
                "device": "TAG1",
                "time": "2026-01-01T00:00:00Z",
                "lat": 51.5,
                "lon": -0.1,
                "accuracy_m": 8,
                "alarms": ["strap_removed"],
            }
        ]
    }
    assert client.post("/api/gateways/fixes", json=batch).status_code == 401
    assert client.post("/api/gateways/fixes", json=batch, headers=auth).json() == {
        "accepted": 1,
        "quarantined": 0,
    }
    broken = {
        "fixes": [batch["fixes"][0], {"device": "TAG1", "time": "yesterday", "lat": 95, "lon": 0}]
    }
    response = client.post("/api/gateways/fixes", json=broken, headers=auth)
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["detail"]}
    assert fields == {"fixes[1].time", "fixes[1].lat"} or "fixes[1].time" in fields
    csv_text = "device,time,lat,lon,accuracy_m\nTAG2,2026-01-01 00:00:05,51.5,-0.1,5\n"
    assert client.post(
        "/api/gateways/import?format=csv", content=csv_text, headers=auth
    ).json() == {"accepted": 1, "quarantined": 0}
    gpx = (FIXTURES / "trajectories" / "limerick_bus_phone_2019-02-18.gpx").read_bytes()
    imported = client.post(
        "/api/gateways/import?format=gpx&device=PHONE", content=gpx, headers=auth
    )
    assert imported.status_code == 200
    assert imported.json()["accepted"] == 2144
    no_time = b'<gpx version="1.1"><wpt lat="1" lon="2"></wpt></gpx>'
    missing = client.post("/api/gateways/import?format=gpx&device=X", content=no_time, headers=auth)
    assert missing.status_code == 422
    assert "time" in missing.text
    stranger = dict(batch["fixes"][0], device="NOBODY")
    mixed = client.post(
        "/api/gateways/fixes", json={"fixes": [batch["fixes"][0], stranger]}, headers=auth
    )
    assert mixed.json() == {"accepted": 1, "quarantined": 1}
    _drain(client, container)
    assert len(received) == 1 + 1 + 2144 + 1
    assert quarantined(container) == [("import_json", "NOBODY", "unknown_device")]
    assert received[0].alarms == frozenset({Alarm.STRAP_REMOVED})


async def test_the_osmand_port_answers_200_or_400_with_keep_alive(register: Container) -> None:
    bus = InMemoryBus()
    received: list[Fix] = []

    async def handler(batch: list[Fix]) -> None:
        received.extend(batch)

    bus.subscribe(Topic.FIXES, handler)
    intake, keys = door_intake(bus, GatewayMetrics(), register, ["123456", "777", "JSON1"])
    server = await HttpDoor(OSMAND, intake, CLOCK).start("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            first = await http.get(
                f"/{keys['123456']}?id=123456&timestamp=1377177267&lat=60.0&lon=30.0"
            )
            second = await http.post(
                f"/{keys['777']}", params={"id": "777", "location": "51.5,-0.1"}
            )
            bad = await http.get("/?id=1&lat=abc&lon=1")
            json_body = await http.post(
                f"/{keys['JSON1']}",
                json={
                    "device_id": "JSON1",
                    "location": {"coords": {"latitude": 1.0, "longitude": 2.0}},
                },
            )
        assert (first.status_code, second.status_code, json_body.status_code) == (200, 200, 200)
        assert bad.status_code == 400
        assert "lat" in bad.text
        await bus.drain()
        assert [f.device_id for f in received] == ["123456", "777", "JSON1"]
        assert received[0].fix_time == datetime.fromtimestamp(1377177267, tz=UTC)
    finally:
        server.close()
        await server.wait_closed()
        await bus.close()


def _mqtt_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


async def test_owntracks_over_real_mqtt(register: Container) -> None:
    require_service("MQTT", _mqtt_up(), "Mosquitto on 127.0.0.1:1883")
    bus = InMemoryBus()
    metrics = GatewayMetrics()
    received: list[Fix] = []

    async def handler(batch: list[Fix]) -> None:
        received.extend(batch)

    bus.subscribe(Topic.FIXES, handler)
    ready = asyncio.Event()
    user = f"t{uuid.uuid4().hex[:8]}"
    intake, _keys = door_intake(bus, metrics, register, [f"{user}/phone"])
    task = asyncio.create_task(run_subscriber("mqtt://127.0.0.1:1883", intake, CLOCK, ready))
    try:
        await asyncio.wait_for(ready.wait(), 5)
        location = (FIXTURES / "owntracks" / "test" / "l.json").read_bytes()
        transition = (FIXTURES / "owntracks" / "test" / "transition.json").read_bytes()
        async with aiomqtt.Client("127.0.0.1", 1883) as client:
            await client.publish(f"owntracks/{user}/phone", location, qos=1)
            await client.publish(f"owntracks/{user}/phone/event", transition, qos=1)
            await client.publish(f"owntracks/{user}/phone", json.dumps({"_type": "lwt"}), qos=1)
        for _ in range(100):
            await bus.drain()
            if len(received) >= 2 and metrics.rejections("owntracks"):
                break
            await asyncio.sleep(0.05)
        mine = [f for f in received if f.device_id == f"{user}/phone"]
        assert [f.attributes["message"] for f in mine] == ["location", "transition"]
        assert (mine[0].lat, mine[0].lon, mine[0].accuracy_m) == (52.195913, 7.688245, 35.0)
        assert Alarm.GEOFENCE_ENTER in mine[1].alarms
        assert metrics.rejections("owntracks") == {"schema": 1}  # the lwt without tst
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.close()


def test_a_door_named_wrongly_in_the_hosts_setting_is_refused() -> None:
    assert gateway_runner.parse_hosts("", "10.0.0.1")["teltonika"] == "10.0.0.1"
    with pytest.raises(ValueError, match="door=address"):
        gateway_runner.parse_hosts("osmand", "127.0.0.1")
    with pytest.raises(ValueError, match="pigeon"):
        gateway_runner.parse_hosts("pigeon=10.0.0.1", "127.0.0.1")
