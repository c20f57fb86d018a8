"""Trail queries: trails with gaps, who was near (against brute force on real bus data), checking
an account, scope, reasons and the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pyproj import Geod
from sqlalchemy import select

from tests.tracking.helpers import OPERATOR, T0, fix, liverpool_buses
from vigil.bootstrap import Container
from vigil.errors import NotFound, ValidationError
from vigil.security.model import PermissionDenied, Principal, Role
from vigil.security.tables import audit_log
from vigil.tracking import near_queries, queries, store
from vigil.tracking.model import QualityFlags

GEOD = Geod(ellps="WGS84")
REASON = "Checking a victim's report of a sighting"


def _audit(container: Container) -> list[tuple[str, str | None, dict[str, object]]]:
    with container.engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).all()
    return [(r.action, r.subject_id, json.loads(r.detail)) for r in rows]


def _seed(container: Container, batch: list, persons: list) -> list[int]:  # type: ignore[type-arg]
    with container.uow() as uow:
        ids = store.append(uow, batch, persons, [QualityFlags()] * len(batch))
        uow.commit()
    return ids


def test_a_trail_comes_in_time_order_with_its_gaps_marked(container: Container) -> None:
    minutes = [5, 6, 7, 40, 41, 42]  # silent from 08:07 to 08:40, and again after 08:42
    batch = [fix(at=T0 + timedelta(minutes=m)) for m in reversed(minutes)]
    _seed(container, batch, ["P1"] * len(batch))
    with container.uow() as uow:
        found = queries.trail(uow, OPERATOR, "P1", T0, T0 + timedelta(hours=1), REASON)
        uow.commit()
    assert [f.fix_time for f in found.fixes] == [T0 + timedelta(minutes=m) for m in minutes]
    assert [(g.start, g.end) for g in found.gaps] == [
        (T0 + timedelta(minutes=7), T0 + timedelta(minutes=40)),
        (T0 + timedelta(minutes=42), T0 + timedelta(hours=1)),
    ]
    action, subject, detail = _audit(container)[-1]
    assert (action, subject) == ("trail.view", "P1")
    assert detail["reason"] == REASON
    assert detail["fixes"] == 6


def test_every_query_refuses_without_a_reason_and_audits_nothing(container: Container) -> None:
    end = T0 + timedelta(hours=1)
    with container.uow() as uow:
        for call in (
            lambda r: queries.trail(uow, OPERATOR, "P1", T0, end, r),
            lambda r: near_queries.who_was_near(uow, OPERATOR, 53.4, -2.9, 200, T0, end, r),
            lambda r: near_queries.check_account(uow, OPERATOR, "P1", 53.4, -2.9, 200, T0, r),
        ):
            for reason in (None, "", "   "):
                with pytest.raises(ValidationError) as refused:
                    call(reason)
                assert refused.value.field == "reason"
    assert _audit(container) == []


def test_bad_windows_and_places_name_their_fields(container: Container) -> None:
    with container.uow() as uow, pytest.raises(ValidationError) as bad:
        near_queries.who_was_near(uow, OPERATOR, 95.0, -2.9, 0, T0, T0 - timedelta(hours=1), REASON)
    assert {e.field for e in bad.value.errors} == {"lat", "radius_m", "end"}


def test_roles_without_trail_access_are_refused(container: Container) -> None:
    analyst = Principal(id=3, name="analyst", role=Role.ANALYST)
    with container.uow() as uow, pytest.raises(PermissionDenied):
        queries.trail(uow, analyst, "P1", T0, T0 + timedelta(hours=1), REASON)


def test_out_of_scope_persons_are_not_found_and_left_out_of_near_results(
    container: Container,
) -> None:
    _seed(container, [fix("T1"), fix("T2")], ["P1", "P2"])
    police = Principal(id=4, name="pc", role=Role.POLICE, force_area="WMP")

    def only_p1(_uow: object, _principal: Principal, person_id: str) -> bool:
        return person_id == "P1"

    end = T0 + timedelta(hours=1)
    with container.uow() as uow:
        with pytest.raises(NotFound):
            queries.trail(uow, police, "P2", T0, end, REASON, scope=only_p1)
        near = near_queries.who_was_near(
            uow, police, 52.4862, -1.8904, 100, T0 - timedelta(hours=1), end, REASON, scope=only_p1
        )
    assert [a.person_id for a in near] == ["P1"]


def _brute_force_near(
    buses: list,
    lat: float,
    lon: float,
    radius: float,
    start: datetime,
    end: datetime,  # type: ignore[type-arg]
) -> dict[str, tuple[float, set[int]]]:
    expected: dict[str, tuple[float, set[int]]] = {}
    for fix_id, bus in buses:
        f = bus.fix
        if not (start <= f.fix_time <= end) or f.accuracy_m > queries.DEFAULT_MAX_ACCURACY_M:
            continue
        _, _, d = GEOD.inv(lon, lat, f.lon, f.lat)
        reach = max(0.0, d - f.accuracy_m)
        if reach <= radius:
            best, ids = expected.get(bus.person, (float("inf"), set()))
            expected[bus.person] = (min(best, reach), ids | {fix_id})
    return expected


def test_who_was_near_matches_brute_force_on_the_liverpool_buses(container: Container) -> None:
    buses = liverpool_buses()
    ids = _seed(container, [b.fix for b in buses], [b.person for b in buses])
    with_ids = list(zip(ids, buses, strict=True))
    day_start = datetime(2026, 1, 26, 15, 0, tzinfo=UTC)
    places = [(b.fix.lat, b.fix.lon) for b in buses[::97]]
    # A place some way off the route, where fixes come near but mostly not within reach.
    places.append((53.4300, -2.9300))
    windows = [
        (day_start, day_start + timedelta(hours=4)),
        (datetime(2026, 1, 26, 16, 30, tzinfo=UTC), datetime(2026, 1, 26, 17, 30, tzinfo=UTC)),
    ]
    checked = 0
    for lat, lon in places:
        for start, end in windows:
            for radius in (50.0, 200.0):
                expected = _brute_force_near(with_ids, lat, lon, radius, start, end)
                with container.uow() as uow:
                    found = near_queries.who_was_near(
                        uow, OPERATOR, lat, lon, radius, start, end, REASON
                    )
                got = {a.person_id: (a.closest.reach_m, {s.id for s in a.sightings}) for a in found}
                assert got.keys() == expected.keys()
                for person, (reach, fix_ids) in expected.items():
                    assert got[person][0] == pytest.approx(reach, abs=1e-6)
                    assert got[person][1] == fix_ids
                reaches = [a.closest.reach_m for a in found]
                assert reaches == sorted(reaches)
                checked += len(found)
    assert checked > 50  # the places were on the route: most queries find buses


def test_who_was_near_counts_both_ends_of_the_window_and_fixes_without_an_accuracy(
    container: Container,
) -> None:
    start, end = T0, T0 + timedelta(hours=2)
    north = GEOD.fwd(-1.8904, 52.4862, 0, 150)
    batch = [
        fix("T1", start, accuracy_m=12.5),
        fix("T2", end, lat=north[1], lon=north[0], accuracy_m=None),
        fix("T3", start - timedelta(microseconds=1)),
        fix("T4", end + timedelta(microseconds=1)),
        # 250 m away, but its 60 m disc reaches within 200 m.
        fix(
            "T5",
            start + timedelta(minutes=5),
            *GEOD.fwd(-1.8904, 52.4862, 90, 250)[1::-1],
            accuracy_m=60.0,
        ),
        # 250 m away with a 40 m disc: out of reach.
        fix(
            "T6",
            start + timedelta(minutes=5),
            *GEOD.fwd(-1.8904, 52.4862, 270, 250)[1::-1],
            accuracy_m=40.0,
        ),
    ]
    ids = _seed(container, batch, ["P1", "P2", "P3", "P4", "P5", "P6"])
    with container.uow() as uow:
        found = near_queries.who_was_near(uow, OPERATOR, 52.4862, -1.8904, 200, start, end, REASON)
    by_person = {a.person_id: a for a in found}
    assert set(by_person) == {"P1", "P2", "P5"}
    first = by_person["P1"].sightings[0]
    assert (first.id, first.fix_time, first.lat, first.lon, first.accuracy_m) == (
        ids[0],
        start,
        52.4862,
        -1.8904,
        12.5,
    )
    second = by_person["P2"].sightings[0]
    assert (second.id, second.fix_time, second.accuracy_m) == (ids[1], end, None)
    assert second.reach_m == pytest.approx(150.0, abs=1e-6)
    assert by_person["P5"].closest.reach_m == pytest.approx(190.0, abs=1e-6)
    assert by_person["P5"].closest.fix.id == ids[4]


def test_a_fix_too_imprecise_to_place_anyone_is_not_evidence_of_presence(
    container: Container,
) -> None:
    # 300 m away with a 400 m disc: it might reach the place, but says nothing useful.
    far = GEOD.fwd(-1.8904, 52.4862, 90, 300)
    _seed(container, [fix(lat=far[1], lon=far[0], accuracy_m=400.0)], ["P1"])
    with container.uow() as uow:
        near = near_queries.who_was_near(
            uow,
            OPERATOR,
            52.4862,
            -1.8904,
            200,
            T0 - timedelta(hours=1),
            T0 + timedelta(hours=1),
            REASON,
        )
        loose = near_queries.who_was_near(
            uow,
            OPERATOR,
            52.4862,
            -1.8904,
            200,
            T0 - timedelta(hours=1),
            T0 + timedelta(hours=1),
            REASON,
            max_accuracy_m=500,
        )
    assert near == []
    assert [a.person_id for a in loose] == ["P1"]
    assert loose[0].closest.reach_m == 0.0


def test_checking_an_account_says_how_close_and_where_they_were(container: Container) -> None:
    place = (52.4862, -1.8904)
    # Walking east away from the place: 100 m at 08:00, then 300 m, 500 m, 700 m every 10 min.
    batch = []
    for step in range(4):
        lon, lat, _ = GEOD.fwd(place[1], place[0], 90, 100 + 200 * step)
        batch.append(fix(at=T0 + timedelta(minutes=10 * step), lat=lat, lon=lon, accuracy_m=20.0))
    _seed(container, batch, ["P1"] * 4)
    at = T0 + timedelta(minutes=25)
    with container.uow() as uow:
        missed = near_queries.check_account(
            uow, OPERATOR, "P1", *place, 50, at, REASON, window=timedelta(minutes=10)
        )
        seen = near_queries.check_account(
            uow, OPERATOR, "P1", *place, 100, at, REASON, window=timedelta(minutes=30)
        )
        uow.commit()
    assert not missed.within
    assert missed.closest is not None
    assert missed.closest.distance_m == pytest.approx(500, abs=0.01)  # the 08:20 fix
    assert missed.closest.reach_m == pytest.approx(480, abs=0.01)
    assert missed.before is not None
    assert missed.before.fix_time == T0 + timedelta(minutes=20)
    assert missed.after is not None
    assert missed.after.fix_time == T0 + timedelta(minutes=30)
    assert seen.within
    assert [s.fix.fix_time for s in seen.sightings_within] == [T0]
    assert seen.closest is not None
    assert seen.closest.reach_m == pytest.approx(80, abs=0.01)
    actions = [(a, s, d["within"]) for a, s, d in _audit(container)]
    assert actions == [("trail.account_check", "P1", False), ("trail.account_check", "P1", True)]


def test_checking_an_account_with_no_fixes_says_so(container: Container) -> None:
    with container.uow() as uow:
        result = near_queries.check_account(uow, OPERATOR, "P9", 52.4, -1.9, 100, T0, REASON)
    assert not result.within
    assert result.closest is None
    assert result.before is None
    assert result.fixes_in_window == 0
    assert [(g.start, g.end) for g in result.gaps] == [
        (T0 - timedelta(minutes=30), T0 + timedelta(minutes=30))
    ]
