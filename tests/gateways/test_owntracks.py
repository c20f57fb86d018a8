"""OwnTracks payloads from owntracks/json-schema (MIT): tests/fixtures/owntracks/."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import FIXTURES
from vigil.gateways import owntracks
from vigil.gateways.model import DecodeError
from vigil.tracking.model import Alarm

ROOT = FIXTURES / "owntracks"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TARGETS = re.findall(r"([\w.-]+)\.(msuccess|mfail)", (ROOT / "test" / "Makefile").read_text())
PRESENT = [(name, kind) for name, kind in TARGETS if (ROOT / "test" / f"{name}.json").exists()]


def _payload(name: str) -> bytes:
    return (ROOT / "test" / f"{name}.json").read_bytes()


def test_the_fixture_set_has_both_kinds() -> None:
    kinds = {kind for _, kind in PRESENT}
    assert kinds == {"msuccess", "mfail"}
    assert len(PRESENT) >= 12


@pytest.mark.parametrize(("name", "kind"), PRESENT, ids=[n for n, _ in PRESENT])
def test_makefile_verdict_is_ours(name: str, kind: str) -> None:
    if kind == "msuccess":
        decoded = owntracks.decode_payload(_payload(name), "alice/phone", NOW)
        assert all(f.device_id == "alice/phone" for f in decoded.fixes)
    else:
        with pytest.raises(DecodeError) as caught:
            owntracks.decode_payload(_payload(name), "alice/phone", NOW)
        assert caught.value.reason == "schema"
        assert ":" in str(caught.value)


@pytest.mark.parametrize(("name", "kind"), PRESENT, ids=[n for n, _ in PRESENT])
def test_our_validator_agrees_with_the_published_schema(name: str, kind: str) -> None:
    schema = json.loads((ROOT / "schemas" / "message.json").read_text())
    message = json.loads(_payload(name))
    try:
        jsonschema.validate(message, schema)
        schema_ok = True
    except jsonschema.ValidationError:
        schema_ok = False
    try:
        owntracks.validate(message)
        ours_ok = True
    except DecodeError:
        ours_ok = False
    assert schema_ok == ours_ok == (kind == "msuccess")


def test_location_becomes_a_fix_with_accuracy_battery_and_time() -> None:
    [fix] = owntracks.decode_payload(_payload("location-5s"), "bob/p", NOW).fixes
    assert (fix.lat, fix.lon, fix.accuracy_m, fix.battery_pct) == (53.430722, 5.112126, 9.0, 94.0)
    assert fix.fix_time == datetime.fromtimestamp(1701263310, tz=UTC)
    assert fix.charging is False
    assert fix.speed_mps == pytest.approx(1 / 3.6, abs=1e-3)


def test_transition_and_lwt_are_understood() -> None:
    [enter] = owntracks.decode_payload(_payload("transition"), "bob/p", NOW).fixes
    assert Alarm.GEOFENCE_ENTER in enter.alarms
    assert enter.attributes["desc"] == "blukii"
    [lwt] = owntracks.decode_payload(_payload("lwt"), "bob/p", NOW).fixes
    assert not lwt.has_position
    assert lwt.attributes["message"] == "lwt"


def test_waypoints_are_valid_but_not_fixes_and_empty_body_is_ignored() -> None:
    assert owntracks.decode_payload(_payload("waypoints-follow-only"), "a/b", NOW).fixes == []
    assert owntracks.decode_payload(b"", "a/b", NOW).fixes == []


def test_identity_needs_user_and_device() -> None:
    assert owntracks.identity_from_topic("owntracks/alice/phone/event") == "alice/phone"
    with pytest.raises(DecodeError):
        owntracks.identity(None, "phone")


def test_schema_file_is_where_the_tests_expect_it() -> None:
    assert Path(ROOT / "schemas" / "message.json").is_file()
