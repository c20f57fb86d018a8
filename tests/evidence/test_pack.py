"""Violation evidence packs: assembled from the real registry, trail store and alerts, signed with
Ed25519, verified byte for byte, fixes put under legal hold, and `vigil evidence verify`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import TEST_KEYS, TEST_SECRET
from vigil.alerts import raising
from vigil.bootstrap import Container
from vigil.engine.events import EngineEvent, EventKind, EventPhase
from vigil.errors import NotFound
from vigil.evidence import pack, packs
from vigil.security.model import Principal, Role
from vigil.sim.demo import seed_demo
from vigil.tracking import store, trail_reads, trail_retention
from vigil.tracking.model import Fix

OPERATOR = Principal(id=21, name="operator", role=Role.MONITORING_OPERATOR)
ANALYST = Principal(id=22, name="analyst", role=Role.ANALYST)
ZONE_LAT, ZONE_LON = 52.472259, -1.797393  # demo person 1's exclusion zone (condition 2)


def make_violation(container: Container) -> tuple[str, str, list[int]]:
    """Person 1 walks into their exclusion zone; the alerts part raises the episode's alert."""
    seed_demo(container)
    start = container.clock.now() + timedelta(hours=2)
    fixes = []
    for minute in range(-40, 41, 2):
        # 1.2 km south-west of the centre, walking to the centre by minute 0, then back out.
        k = abs(minute) / 40
        fixes.append(
            Fix(
                device_id="357588032098371",
                fix_time=start + timedelta(minutes=minute),
                receive_time=start + timedelta(minutes=minute, seconds=3),
                lat=ZONE_LAT - 0.011 * k,
                lon=ZONE_LON - 0.011 * k,
                protocol="teltonika",
                accuracy_m=8.0,
                battery_pct=70 - minute / 10,
                raw=f"000000000000003608010000018{minute + 50:02d}ABCDEF",
            )
        )
    with container.uow() as uow:
        ids = store.append(uow, fixes, ["1"] * len(fixes))
        uow.commit()
    during = [
        i
        for i, f in zip(ids, fixes, strict=True)
        if abs((f.fix_time - start).total_seconds()) <= 600
    ]
    event = EngineEvent(
        episode_id="ep-demo-0001",
        person_id="1",
        condition_id="2",
        kind=EventKind.EXCLUSION_ZONE,
        phase=EventPhase.ENDED,
        start=start - timedelta(minutes=10),
        end=start + timedelta(minutes=10),
        raised_at=start - timedelta(minutes=9),
        device_id="357588032098371",
        lat=ZONE_LAT,
        lon=ZONE_LON,
        fix_ids=tuple(during),
        detail={"confirmed_by": "3 fixes wholly inside", "dwell_s": 1200},
    )
    with container.uow() as uow:
        raising.handle_event(uow, event, container.alerts.context)
        uow.commit()
    return "1", "ep-demo-0001", ids


def test_an_officer_gets_a_signed_pack_whose_fixes_survive_retention_and_verify_by_command(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, episode, ids = make_violation(container)
    with container.uow() as uow:
        result = packs.create_pack(
            uow,
            OPERATOR,
            container.settings,
            person_id=person,
            violation_id=episode,
            reason="Recall request to the court",
        )
        uow.commit()
    envelope = json.loads(result.document)
    evidence = envelope["evidence"]
    assert evidence["violation"]["kind"] == "exclusion_zone"
    assert evidence["condition_as_imposed"]["type"] == "exclusion_zone"
    assert evidence["condition_as_imposed"]["radius_m"] == 400.0
    assert {f["period"] for f in evidence["fixes"]} == {"before", "during", "after"}
    assert sorted(f["id"] for f in evidence["fixes"]) == sorted(ids)
    assert all(f["raw"] for f in evidence["fixes"])
    assert evidence["device_health"]["battery_min_pct"] == pytest.approx(66.0)
    assert evidence["reasoning"]["certainly_inside"] >= 3
    # Until the engine offers its own violation record, the alert's raise record stands in.
    assert evidence["violation"]["source"] == "alert"
    assert evidence["alerts"][0]["history"], "the alert's handling history is in the pack"

    trusted = packs.trusted_keys(container.settings)
    check = pack.verify(result.document, trusted)
    assert check.intact, check.problems
    assert check.trusted
    assert check.sha256 == result.sha256
    # A sample of positions across the real pack; every position is flipped on a small pack.
    for position in range(0, len(result.document), 251):
        changed = bytearray(result.document)
        changed[position] ^= 0x01
        assert not pack.verify(bytes(changed), trusted).intact, position

    with container.uow() as uow:
        summary, stored = packs.get_pack(uow, OPERATOR, result.id, "Preparing the recall")
        uow.commit()
    assert stored == result.document
    assert summary["sha256"] == result.sha256

    pdf = packs.pack_pdf(result.document, check)
    assert pdf.startswith(b"%PDF")
    assert b"EmbeddedFile" in pdf

    # Retention far in the future deletes nothing the pack cites.
    container.clock.advance(timedelta(days=400))  # type: ignore[attr-defined]
    with container.uow() as uow:
        trail_retention.apply_retention(uow, container.clock.now() - timedelta(days=1), "test")
        uow.commit()
    with container.uow() as uow:
        kept = trail_reads.fixes_by_id(uow.connection, ids)
    assert sorted(kept) == sorted(ids)

    from vigil.cli import app

    good = tmp_path / "pack.json"
    good.write_bytes(result.document)
    bad = tmp_path / "bad.json"
    bad.write_bytes(result.document.replace(b'"accuracy_m":8.0', b'"accuracy_m":9.0', 1))
    monkeypatch.setenv("VIGIL_ENVIRONMENT", "test")
    monkeypatch.setenv("VIGIL_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("VIGIL_FIELD_ENCRYPTION_KEYS", TEST_KEYS)
    runner = CliRunner()
    ok = runner.invoke(app, ["evidence", "verify", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "Intact" in ok.output
    assert "Vigil test system key" in ok.output
    broken = runner.invoke(app, ["evidence", "verify", str(bad)])
    assert broken.exit_code == 1
    assert "NOT INTACT" in broken.output


def _small_pack() -> tuple[bytes, pack.SigningKey]:
    from datetime import UTC, datetime

    key = pack.SigningKey.derived("k", "Test signer")
    evidence = {"violation": {"id": "e1", "kind": "curfew"}, "fixes": [{"id": 1, "lat": 52.1}]}
    return pack.sign(evidence, key, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)), key


def test_every_changed_byte_fails_verification() -> None:
    document, key = _small_pack()
    trusted = {key.key_id: key.signer}
    assert pack.verify(document, trusted).intact
    for position in range(len(document)):
        for bit in (0x01, 0x20):
            changed = bytearray(document)
            changed[position] ^= bit
            assert not pack.verify(bytes(changed), trusted).intact, (position, bit)
    assert not pack.verify(document + b"\n", trusted).intact
    assert not pack.verify(document[:-1], trusted).intact
    reformatted = json.dumps(json.loads(document), indent=1).encode()
    assert not pack.verify(reformatted, trusted).intact


def test_a_pack_signed_by_another_key_is_intact_but_not_trusted() -> None:
    document, _key = _small_pack()
    other = pack.SigningKey.from_setting(pack.new_key_setting("Someone else"))
    check = pack.verify(document, {other.key_id: other.signer})
    assert check.intact
    assert not check.trusted
    assert "does not know" in check.summary()


def test_a_malformed_signing_key_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="32-byte"):
        pack.SigningKey.from_setting("signer:c2hvcnQ=")


def test_other_roles_cannot_make_or_read_packs_and_unknown_violations_are_not_found(
    container: Container,
) -> None:
    from vigil.security.model import PermissionDenied

    with pytest.raises(PermissionDenied), container.uow() as uow:
        packs.get_pack(uow, ANALYST, 1, "Curious about it")
    with pytest.raises(NotFound), container.uow() as uow:
        packs.create_pack(
            uow,
            OPERATOR,
            container.settings,
            person_id="1",
            violation_id="no-such-episode",
            reason="Recall request",
        )
