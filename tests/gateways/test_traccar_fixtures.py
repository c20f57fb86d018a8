"""Every GT06, Teltonika, watch and OsmAnd message in the upstream decoder tests.

Source: traccar/traccar protocol decoder tests (Apache-2.0), via
tests/fixtures/devices/traccar-protocol-tests.jsonl.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import FIXTURES
from vigil.gateways import registry, validate
from vigil.gateways.model import DecodeError, Session
from vigil.tracking.model import Alarm, Fix

LINES = [
    json.loads(line)
    for line in (FIXTURES / "devices" / "traccar-protocol-tests.jsonl").read_text().splitlines()
    if line.strip()
]
CASES = [c for c in LINES if c["protocol"] in ("gt06", "teltonika", "watch", "osmand")]
NOW = datetime(2026, 1, 1, tzinfo=UTC)
# The two OsmAnd JSON-form lines lost their request body when extracted; see the JSON test below.
BODYLESS = "/Content-Typeapplication/json"

ALARMS = {
    "ALARM_SOS": Alarm.SOS,
    "ALARM_REMOVING": Alarm.STRAP_REMOVED,
    "ALARM_TAMPERING": Alarm.TAMPER,
    "ALARM_LOW_BATTERY": Alarm.LOW_BATTERY,
    "ALARM_GENERAL": Alarm.GENERAL,
    "ALARM_ACCELERATION": Alarm.ACCELERATION,
    "ALARM_BRAKING": Alarm.BRAKING,
    "ALARM_ACCIDENT": Alarm.ACCIDENT,
}
# Upstream attribute → how the same meaning reads on our Fix.
ATTRIBUTES = {
    "KEY_BATTERY_LEVEL": lambda f: f.battery_pct,
    "KEY_BATTERY": lambda f: f.attributes.get("battery_v"),
    "KEY_IGNITION": lambda f: f.attributes.get("ignition"),
    "KEY_ICCID": lambda f: f.attributes.get("iccid"),
    "KEY_RESULT": lambda f: f.attributes.get("result"),
    "KEY_DRIVER_UNIQUE_ID": lambda f: f.attributes.get("driver_id"),
    "KEY_DOOR": lambda f: f.attributes.get("door"),
    '"serial"': lambda f: f.attributes.get("serial"),
    '"networkTechnology"': lambda f: f.attributes.get("network"),
    '"bloodOxygen"': lambda f: f.attributes.get("blood_oxygen"),
    "KEY_EVENT": lambda f: f.attributes.get("event"),
    "KEY_DRIVING_TIME": lambda f: f.attributes.get("driving_time"),
}
# Upstream asserts these only for a configured device model (LW, R11, SEEWORLD), which a
# capture alone cannot tell us; or they are sensor readings Vigil does not use.
MODEL_DEPENDENT = {
    ("KEY_POWER", "13.1"),
    ("KEY_POWER", "11.0"),
    ("KEY_POWER", "28.34"),
    ("KEY_POWER", "null"),
    ("KEY_ALARM", "ALARM_ACCELERATION", "78782516180516150812"),
}


def _decode(case: dict[str, str]) -> list[Fix]:
    payload = (
        bytes.fromhex(case["payload"]) if case["encoding"] == "hex" else case["payload"].encode()
    )
    logged_in = case["protocol"] in ("gt06", "teltonika")
    session = Session(case["protocol"], device_id="123456789012345" if logged_in else None)
    try:
        results = registry.decode_capture(case["protocol"], payload, session, NOW)
    except DecodeError:
        return []
    return [fix for result in results for fix in result.fixes]


def _expected(value: str) -> object:
    if value.startswith('"'):
        return value.strip('"')
    if value in ("true", "false"):
        return value == "true"
    if value.startswith("0x"):
        return int(value, 16)
    return float(value)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['protocol']}-{i}" for i, c in enumerate(CASES)])
def test_upstream_fixture_decodes_to_what_upstream_asserts(case: dict) -> None:
    if case["payload"] == BODYLESS:
        pytest.skip("fixture line lost its JSON body; covered by the JSON-form test")
    fixes = _decode(case)
    positions = [f for f in fixes if f.has_position]
    check = case["check"]
    if check == "verifyNull":
        assert not positions, "a login, heartbeat or command must not yield a position"
        return
    if check in ("verifyPosition", "verifyPositions"):
        assert positions, "upstream decodes a position here"
        for fix in positions:
            assert validate.problem(fix) in (None, "future_time"), fix
            assert -90 <= fix.lat <= 90
            assert -180 <= fix.lon <= 180
    else:
        assert fixes, "upstream decodes something here"
    expect = case.get("expect")
    if not expect:
        return
    if "lat" in expect:
        fix = positions[0]
        assert fix.fix_time.strftime("%Y-%m-%d %H:%M:%S.000") == expect["time_utc"]
        assert fix.valid is expect["valid"]
        assert fix.lat == pytest.approx(expect["lat"], abs=1e-5)
        assert fix.lon == pytest.approx(expect["lon"], abs=1e-5)
        return
    attribute, value = expect["attribute"], expect["value"]
    if (attribute, value) in MODEL_DEPENDENT or (
        attribute,
        value,
        case["payload"][:20],
    ) in MODEL_DEPENDENT:
        return
    if attribute == "KEY_ALARM":
        assert any(ALARMS[value] in f.alarms for f in fixes), [f.alarms for f in fixes]
    elif attribute in ATTRIBUTES:
        got = [ATTRIBUTES[attribute](f) for f in fixes]
        want = _expected(value)
        if isinstance(want, float):
            assert any(g is not None and float(g) == pytest.approx(want) for g in got), got
        else:
            assert want in got, got


def test_every_required_protocol_line_is_exercised() -> None:
    counts = {
        p: sum(c["protocol"] == p for c in CASES) for p in ("gt06", "teltonika", "watch", "osmand")
    }
    assert counts == {"gt06": 167, "teltonika": 41, "watch": 49, "osmand": 13}


def test_osmand_json_form_from_traccar_client() -> None:
    body = json.dumps(
        {
            "location": {
                "timestamp": "2021-07-19T12:47:18.000Z",
                "coords": {
                    "latitude": 51.5072,
                    "longitude": -0.1276,
                    "accuracy": 12.5,
                    "speed": 1.5,
                    "heading": 90,
                    "altitude": 30,
                },
                "is_moving": True,
                "battery": {"level": 0.55, "is_charging": False},
            },
            "device_id": "867530",
        }
    ).encode()
    [result] = registry.decode_capture("osmand", body, Session("osmand"), NOW)
    [fix] = result.fixes
    assert (fix.device_id, fix.lat, fix.lon, fix.accuracy_m) == ("867530", 51.5072, -0.1276, 12.5)
    assert fix.fix_time == datetime(2021, 7, 19, 12, 47, 18, tzinfo=UTC)
    assert (fix.battery_pct, fix.charging, fix.speed_mps) == (55.0, False, 1.5)
