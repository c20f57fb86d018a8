"""The devices page says when each device was last heard from (local time and how long ago),
with the battery and signal its latest message reported, read for all devices in one query."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.conftest import log_in
from vigil.bootstrap import Container
from vigil.devices import service as devices
from vigil.devices.last_contact import signal_text
from vigil.devices.model import HolderKind
from vigil.security.model import SYSTEM
from vigil.sim.demo import DEMO_PASSWORD
from vigil.tracking import store
from vigil.tracking.latest_fixes import WornDevice, latest_fixes
from vigil.tracking.model import Fix


def _cell(page: str, device: str, testid: str) -> str:
    row = page.split(f'data-device="{device}"')[1].split("</tr>")[0]
    found = re.search(rf'data-testid="{testid}">(.*?)</td>', row, re.S)
    assert found, (device, testid)
    return re.sub(r"<[^>]+>", " ", found.group(1))


@contextmanager
def _fix_reads(container: Container) -> Iterator[list[str]]:
    """Every statement that reads the trail store while the block runs."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if re.search(r"\bFROM fixes\b", statement):
            seen.append(statement)

    event.listen(container.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(container.engine, "before_cursor_execute", note)


def test_each_device_shows_its_last_contact_battery_and_signal_from_one_query(
    demo: Container, demo_client: TestClient
) -> None:
    with demo.uow() as uow:
        listed = devices.list_devices(uow, SYSTEM)
    worn = [d for d in listed if d.current and d.current.holder_kind is HolderKind.PERSON]
    tag, other_tag = worn[0], worn[1]
    loose = next(d for d in listed if d not in worn)
    now = demo.clock.now()  # 09:00 UTC on a winter day: 09:00 GMT

    def fix(device: str, minutes_ago: int, **extra: Any) -> Fix:
        at = now - timedelta(minutes=minutes_ago)
        return Fix(device, at, at + timedelta(seconds=5), None, None, "gt06", **extra)

    with demo.uow() as uow:
        store.append(
            uow.connection,
            [
                fix(tag.external_id, 30, battery_pct=80.0),
                # A heartbeat without a position is contact too, and the latest one.
                fix(tag.external_id, 7, battery_pct=64.0, charging=True, attributes={"rssi": 3}),
                fix(loose.external_id, 90, satellites=7),
            ],
            [tag.person_id, tag.person_id, None],
        )
        uow.commit()
    log_in(demo_client, "operator", DEMO_PASSWORD)
    with _fix_reads(demo) as reads:
        page = demo_client.get("/devices").text
    assert len(reads) == 1  # all devices at once, not one query per device

    local = (now - timedelta(minutes=7) + timedelta(seconds=5)).strftime("%H:%M")
    assert f"{local} GMT" in _cell(page, tag.external_id, "last-contact")
    assert "6 min ago" in _cell(page, tag.external_id, "last-contact")
    assert "64% (charging)" in _cell(page, tag.external_id, "battery")
    assert "Good (3 of 4)" in _cell(page, tag.external_id, "signal")
    assert "7 GPS satellites" in _cell(page, loose.external_id, "signal")
    assert "Never heard from" in _cell(page, other_tag.external_id, "last-contact")


def test_signal_readings_are_put_in_words_on_each_protocols_own_scale() -> None:
    assert signal_text("gt06", 4) == "strong (4 of 4)"
    assert signal_text("gt06", 0) == "none (0 of 4)"
    assert signal_text("teltonika", 2) == "weak (2 of 5)"
    assert signal_text("watch", 20) == "very weak (20%)"
    assert signal_text("osmand", 3) == ""  # the protocol reports no signal
    assert signal_text("gt06", None) == ""


def test_the_latest_fix_of_each_device_is_its_wearers_since_fitting_or_its_own_unworn(
    container: Container,
) -> None:
    now = container.clock.now()
    fitted = now - timedelta(hours=2)

    def fix(device: str, minutes_ago: int, battery: float) -> Fix:
        at = now - timedelta(minutes=minutes_ago)
        return Fix(device, at, at, 52.5, -1.9, "osmand", battery_pct=battery)

    with container.uow() as uow:
        store.append(
            uow.connection,
            [
                fix("TAG-1", 5, 50.0),
                fix("TAG-1", 1, 1.0),  # the same tag, another wearer's: not this fitting's
                fix("TAG-1", 200, 99.0),  # before it was fitted
                fix("PHONE-1", 3, 70.0),
                fix("PHONE-1", 9, 71.0),
            ],
            ["11", "12", "11", None, None],
        )
        uow.commit()
        found = latest_fixes(
            uow.connection, [WornDevice("TAG-1", 11, fitted), WornDevice("TAG-2", 11, fitted)],
            ["PHONE-1", "SPARE-1"],
        )  # fmt: skip
    assert sorted(found) == ["PHONE-1", "TAG-1"]
    assert found["TAG-1"].battery_pct == 50.0
    assert found["TAG-1"].fix_time == now - timedelta(minutes=5)
    assert found["PHONE-1"].battery_pct == 70.0
