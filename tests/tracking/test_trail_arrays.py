"""The column-wise trail read: the same fixes, gaps, checks and single audit entry as ``trail``."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.tracking.helpers import OPERATOR, T0, fix, liverpool_buses
from vigil.bootstrap import Container
from vigil.errors import NotFound, ValidationError
from vigil.security.model import PermissionDenied, Principal, Role
from vigil.security.tables import audit_log
from vigil.tracking import queries, store
from vigil.tracking.model import QualityFlags, StoredFix, Trail
from vigil.tracking.tables import to_micros

REASON = "Reviewing the week before a breach"


def _audit(container: Container) -> list[tuple[str, str | None, dict[str, object]]]:
    with container.engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).all()
    return [(r.action, r.subject_id, json.loads(r.detail)) for r in rows]


def _nan_is_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def _rows(found: queries.TrailArrays) -> list[tuple[object, ...]]:
    return [
        (
            int(found.ids[i]),
            int(found.times_us[i]),
            _nan_is_none(float(found.lats[i])),
            _nan_is_none(float(found.lons[i])),
            _nan_is_none(float(found.accuracies_m[i])),
            bool(found.valid[i]),
            bool(found.implausible[i]),
            bool(found.invalid_position[i]),
        )
        for i in range(len(found))
    ]


def _expected(fixes: tuple[StoredFix, ...]) -> list[tuple[object, ...]]:
    return [
        (
            f.id,
            to_micros(f.fix_time),
            f.lat,
            f.lon,
            f.accuracy_m,
            f.valid,
            f.implausible,
            f.invalid_position,
        )
        for f in fixes
    ]


def _both(
    container: Container,
    person: str,
    start: datetime,
    end: datetime,
    gap: timedelta = queries.DEFAULT_GAP,
) -> tuple[Trail, queries.TrailArrays]:
    with container.uow() as uow:
        rows = queries.trail(uow, OPERATOR, person, start, end, REASON, gap=gap)
        columns = queries.trail_arrays(uow, OPERATOR, person, start, end, REASON, gap=gap)
        uow.commit()
    return rows, columns


def _same(rows: Trail, columns: queries.TrailArrays) -> None:
    assert _rows(columns) == _expected(rows.fixes)
    assert columns.gaps == rows.gaps
    assert (columns.person_id, columns.start, columns.end) == (rows.person_id, rows.start, rows.end)


def test_trail_arrays_hold_the_same_fixes_flags_and_gaps_as_the_trail(
    container: Container,
) -> None:
    minutes = [5, 6, 6, 7, 40, 41, 42]  # a tie at 08:06; silent 08:07-08:40 and after 08:42
    batch = [fix(at=T0 + timedelta(minutes=m)) for m in minutes]
    batch[1] = fix(at=T0 + timedelta(minutes=6), lat=None, lon=None, accuracy_m=None)
    batch[4] = fix(at=T0 + timedelta(minutes=40), valid=False)
    flags = [QualityFlags()] * len(batch)
    flags[1] = QualityFlags(invalid_position=True)
    flags[5] = QualityFlags(implausible=True)
    with container.uow() as uow:
        store.append(uow, batch, ["P1"] * len(batch), flags)
        store.append(uow, [fix("T9", at=T0 + timedelta(minutes=6))], ["P2"])  # someone else
        uow.commit()
    rows, columns = _both(container, "P1", T0, T0 + timedelta(hours=1))
    _same(rows, columns)
    assert len(columns) == 7
    assert math.isnan(columns.lats[1])
    assert columns.invalid_position[1]
    assert not columns.valid[4]
    assert columns.implausible[5]
    assert [(g.start.minute, g.end.minute) for g in columns.gaps] == [(7, 40), (42, 0)]


def test_trail_arrays_match_the_trail_on_real_bus_journeys(container: Container) -> None:
    buses = liverpool_buses()
    with container.uow() as uow:
        store.append(uow, [b.fix for b in buses], [b.person for b in buses])
        uow.commit()
    times = sorted(b.fix.fix_time for b in buses)
    start, end = times[0] - timedelta(minutes=1), times[-1] + timedelta(minutes=1)
    for person in sorted({b.person for b in buses})[:3]:
        rows, columns = _both(container, person, start, end, gap=timedelta(minutes=2))
        assert len(columns) > 0
        _same(rows, columns)


def test_an_empty_window_gives_empty_arrays_and_one_gap(container: Container) -> None:
    end = T0 + timedelta(hours=1)
    with container.uow() as uow:
        found = queries.trail_arrays(uow, OPERATOR, "P1", T0, end, REASON)
    assert len(found) == 0
    assert found.lats.shape == (0,)
    assert [(g.start, g.end) for g in found.gaps] == [(T0, end)]


def test_trail_arrays_write_one_audit_entry_like_the_trail(container: Container) -> None:
    with container.uow() as uow:
        store.append(uow, [fix(at=T0 + timedelta(minutes=m)) for m in range(3)], ["P1"] * 3)
        uow.commit()
    end = T0 + timedelta(hours=1)
    _both(container, "P1", T0, end)
    entries = _audit(container)
    assert len(entries) == 2
    assert entries[0] == entries[1]
    action, subject, detail = entries[1]
    assert (action, subject) == ("trail.view", "P1")
    assert detail == {
        "reason": REASON,
        "start": T0.isoformat(),
        "end": end.isoformat(),
        "fixes": 3,
    }


def test_trail_arrays_refuse_without_a_reason_or_with_a_bad_window_and_audit_nothing(
    container: Container,
) -> None:
    end = T0 + timedelta(hours=1)
    with container.uow() as uow:
        for reason in (None, "", "   ", "abc"):
            with pytest.raises(ValidationError) as refused:
                queries.trail_arrays(uow, OPERATOR, "P1", T0, end, reason)
            assert refused.value.field == "reason"
        with pytest.raises(ValidationError) as bad:
            queries.trail_arrays(uow, OPERATOR, "P1", end, T0, REASON)
        assert bad.value.field == "end"
        with pytest.raises(ValidationError) as too_long:
            queries.trail_arrays(uow, OPERATOR, "P1", T0, T0 + timedelta(days=32), REASON)
        assert too_long.value.field == "end"
    assert _audit(container) == []


def test_trail_arrays_keep_to_the_principals_scope_and_roles(container: Container) -> None:
    with container.uow() as uow:
        store.append(uow, [fix("T1"), fix("T2")], ["P1", "P2"])
        uow.commit()
    police = Principal(id=4, name="pc", role=Role.POLICE, force_area="WMP")
    analyst = Principal(id=3, name="analyst", role=Role.ANALYST)

    def only_p1(_uow: object, _principal: Principal, person_id: str) -> bool:
        return person_id == "P1"

    end = T0 + timedelta(hours=1)
    with container.uow() as uow:
        with pytest.raises(NotFound):
            queries.trail_arrays(uow, police, "P2", T0, end, REASON, scope=only_p1)
        with pytest.raises(PermissionDenied):
            queries.trail_arrays(uow, analyst, "P1", T0, end, REASON, scope=only_p1)
    assert _audit(container) == []
    with container.uow() as uow:
        seen = queries.trail_arrays(uow, police, "P1", T0, end, REASON, scope=only_p1)
        uow.commit()
    assert len(seen) == 1
    assert [(a, s) for a, s, _ in _audit(container)] == [("trail.view", "P1")]
