"""Bad input: random and mutated bytes, bad CRCs, impossible positions, the future."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from vigil.gateways import gt06, registry, teltonika, validate, watch
from vigil.gateways.model import DecodeError, Session
from vigil.text import ascii_digits
from vigil.tracking.model import Fix

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LINES = [
    json.loads(line)
    for line in (FIXTURES / "devices" / "traccar-protocol-tests.jsonl").read_text().splitlines()
]
SAMPLES = {
    p: [
        bytes.fromhex(c["payload"]) if c["encoding"] == "hex" else c["payload"].encode()
        for c in LINES
        if c["protocol"] == p
    ]
    for p in ("gt06", "teltonika", "watch", "osmand")
}


def _never_raises_out(protocol: str, data: bytes) -> None:
    session = Session(protocol, device_id="123456789012345" if protocol != "watch" else None)
    with contextlib.suppress(DecodeError):
        registry.decode_capture(protocol, data, session, NOW)
    spec = registry.get(protocol)
    if spec.split_frames is not None:
        buffer = bytearray(data)
        frames, junk = spec.split_frames(buffer)
        assert sum(map(len, frames)) + junk + len(buffer) == len(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["gt06", "teltonika", "watch", "osmand", "owntracks"]), st.binary(max_size=300)
)
def test_random_bytes_never_raise_out_of_a_decoder(protocol: str, data: bytes) -> None:
    _never_raises_out(protocol, data)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_real_frames_never_raise_out_of_a_decoder(data: st.DataObject) -> None:
    protocol = data.draw(st.sampled_from(sorted(SAMPLES)))
    frame = bytearray(data.draw(st.sampled_from(SAMPLES[protocol])))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if not frame:
            break
        at = data.draw(st.integers(0, len(frame) - 1))
        if op == "flip":
            frame[at] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del frame[at:]
        else:
            frame[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    _never_raises_out(protocol, bytes(frame))


def test_bad_crc_policy_accept_flag_and_count() -> None:
    """Real devices send wrong CRCs; we keep the fix, flag it crc_ok=false, and count it."""
    bad = []
    for line in LINES:
        if line["protocol"] != "gt06":
            continue
        frame = bytes.fromhex(line["payload"])
        if frame[-2:] != b"\r\n" or frame[:2] != b"\x78\x78":
            continue
        session = Session("gt06", device_id="1")
        try:
            result = gt06.decode(frame, session, NOW)
        except DecodeError:
            continue
        if not result.crc_ok:
            bad.append(result)
    assert len(bad) >= 5  # the fixtures carry several frames with wrong CRCs
    assert all(f.attributes.get("crc_ok") is False for r in bad for f in r.fixes)
    assert any(f.has_position for r in bad for f in r.fixes)
    assert all(r.reply for r in bad)  # still acknowledged, so the device does not resend


def test_teltonika_bad_crc_is_flagged_but_kept() -> None:
    login = Session("teltonika", device_id="1")
    frame = bytearray.fromhex(
        "000000000000002b080100000140d4e3ec6e000cc661d01674a5e0fffc00000900000004020100f0000242322318000000000100007a04"
    )
    frame[-1] ^= 0xFF
    result = teltonika.decode(bytes(frame), login, NOW)
    assert not result.crc_ok
    assert result.reply == b"\x00\x00\x00\x01"
    assert result.fixes[0].attributes["crc_ok"] is False


def _fix(**changes: object) -> Fix:
    base = Fix("d", NOW, NOW, 51.5, -0.1, "test")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_impossible_positions_and_times_are_rejected_with_a_reason() -> None:
    assert validate.problem(_fix()) is None
    assert validate.problem(_fix(lat=91.0)) == "bad_coordinates"
    assert validate.problem(_fix(lon=float("nan"))) == "bad_coordinates"
    assert validate.problem(_fix(fix_time=NOW + timedelta(hours=2))) == "future_time"
    assert validate.problem(_fix(fix_time=datetime(1999, 8, 22, tzinfo=UTC))) == "bad_time"
    assert validate.problem(_fix(accuracy_m=-1.0)) == "bad_accuracy"


def test_watch_tolerates_a_wrong_declared_length() -> None:
    buffer = bytearray(b"[3G*4700186508*00FF*LK,0,10,100][SG*8800000015*0002*LK]")
    frames, junk = watch.split_frames(buffer)
    assert len(frames) == 2
    assert junk == 0
    assert not buffer
    result = watch.decode(frames[0], Session("watch"), NOW)
    assert result.reply == b"[3G*4700186508*0002*LK]"
    assert result.fixes[0].battery_pct == 100.0


def test_a_watch_frame_whose_index_is_not_ascii_is_refused_not_a_crash() -> None:
    # Found by bench/fuzz_decoders.py: the index is echoed in the answer, which must be ASCII.
    found = b"[10*2*2\xd0*2F10*JXTK]"
    frames, _junk = watch.split_frames(bytearray(found))
    for piece in frames:
        with contextlib.suppress(DecodeError):  # refusing is fine; any other error is not
            watch.decode(piece, Session(watch.NAME), NOW)
    with pytest.raises(DecodeError) as refused:
        watch.decode(b"[SG*8800000015*2\xd0*0002*LK]", Session(watch.NAME), NOW)
    assert refused.value.reason == "bad_frame"


def test_digits_from_other_scripts_are_refused_not_a_crash() -> None:
    # Found by bench/fuzz_decoders.py: "³1".isdigit() is true, but int("³1") fails.
    session = Session(watch.NAME)
    decoded = watch.decode(b"[SG*8800000015*000B*LK,1,2,\xb31]", session, NOW)
    assert decoded.fixes == []  # a battery it cannot read is not a status it can keep
    assert decoded.reply.startswith(b"[SG*8800000015*")
    assert not ascii_digits("³1")
    assert not ascii_digits("١٢")
    assert ascii_digits("0123456789")
