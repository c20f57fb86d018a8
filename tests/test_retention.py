"""The retention schedule, applied by its daily job: old records go, held and unfinished ones
stay, every deletion is in the audit log, and a lengthened schedule never fails the job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.bus.test_buses import _fix
from tests.tracking.helpers import fix
from vigil import retention
from vigil.bootstrap import Container
from vigil.bus import dead_letters
from vigil.bus.codec import encode
from vigil.bus.model import Topic
from vigil.clock import FrozenClock
from vigil.gateways.quarantine import Quarantine, Refused
from vigil.gateways.tables import gateway_quarantine
from vigil.security.model import SYSTEM
from vigil.security.tables import audit_log
from vigil.tracking import store, trail_reads, trail_retention


async def test_each_kind_is_kept_for_its_time_and_what_is_held_survives(
    container: Container, clock: FrozenClock
) -> None:
    now = clock.now()
    settings = container.settings
    trail_age = timedelta(days=settings.retention_trail_days)
    with container.uow() as uow:
        ids = store.append(
            uow,
            [
                fix(at=now - trail_age - timedelta(days=2)),  # past its time
                fix(at=now - trail_age - timedelta(days=1)),  # past its time, but in a pack
                fix(at=now - timedelta(days=3)),
            ],
            ["P1"] * 3,
        )
        trail_retention.place_legal_hold(uow, [ids[1]], "evidence pack 12", actor="user:1:officer")
        uow.commit()
    old = now - timedelta(days=settings.retention_quarantine_days + 1)
    await Quarantine(container.uow).keep(
        [
            Refused(old, "osmand", "999999", "unknown_device", None, "id=999999"),
            Refused(now, "osmand", "888888", "unknown_device", None, "id=888888"),
        ]
    )
    letters = dead_letters.StoredDeadLetters(container.uow)
    clock.set(now - timedelta(days=settings.retention_dead_letter_days + 5))
    await letters.put(Topic.FIXES, encode(_fix("a", 1)), "replayed long ago")
    await letters.put(Topic.FIXES, encode(_fix("a", 2)), "never dealt with")
    with container.uow() as uow:
        replayed = dead_letters.list_dead_letters(uow, SYSTEM)[-1]
    with container.uow() as uow:  # as the replay service would mark it
        dead_letters.request_replay(uow, SYSTEM, replayed.id)
        uow.commit()
    await dead_letters.replay_requested(container.uow, container.bus)
    clock.set(now)

    deleted = retention.run_once(container)

    assert deleted == {
        "trail": 1,
        "quarantine": 1,
        "dead_letters": 1,
        "alerts": 0,
        "contact_cases": 0,
        "harm_runs": 0,
    }
    with container.engine.connect() as conn:
        assert sorted(trail_reads.fixes_by_id(conn, ids)) == [ids[1], ids[2]]
        kept = conn.execute(select(gateway_quarantine.c.device_id)).scalars().all()
        actions = set(conn.execute(select(audit_log.c.action)).scalars())
    assert kept == ["888888"]
    with container.uow() as uow:
        assert [d.error for d in dead_letters.list_dead_letters(uow, SYSTEM)] == [
            "never dealt with"
        ]
    assert {
        "fixes.retention",
        "gateway_quarantine.retention",
        "bus_dead_letters.retention",
    } <= actions

    # Run again the next day with a longer trail schedule: nothing more goes, nothing fails.
    container.settings = settings.model_copy(
        update={"retention_trail_days": settings.retention_trail_days + 365}
    )
    clock.set(now + timedelta(days=1))
    assert set(retention.run_once(container).values()) == {0}
