"""Trail queries for people: a person's trail, who was near a place, and checking an account.

Every query needs a stated reason, is limited to the persons the principal may see, and writes
one audit entry in the same transaction, which the caller commits. Out-of-scope persons are
reported as not found, and silently left out of "who was near" results, so their existence is not
leaked.

Distances are geodesic (WGS84, pyproj). A fix is a disc: its *reach* is the distance from the
place minus its reported accuracy, so "within R metres" means the disc reaches the circle. Fixes
reporting an accuracy worse than ``max_accuracy_m`` (default 100 m) cannot place anyone near
anything — an outlier with a 500 m disc is not evidence of presence — and flagged fixes
(implausible, invalid position, or marked invalid by the device) are never used as proof."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import Geod

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound
from vigil.people import service as people_service
from vigil.security import audit, permissions
from vigil.security.model import NATIONAL_ROLES, Principal
from vigil.tracking import trail_reads
from vigil.tracking.model import (
    Gap,
    Sighting,
    StoredFix,
    Trail,
)
from vigil.tracking.tables import ONE_MICROSECOND, from_micros, to_micros

DEFAULT_GAP = timedelta(minutes=15)
DEFAULT_MAX_ACCURACY_M = 100.0
MAX_TRAIL_WINDOW = timedelta(days=31)
MAX_NEAR_WINDOW = timedelta(days=7)
MAX_ACCOUNT_WINDOW = timedelta(hours=12)
MAX_RADIUS_M = 5_000.0
REASON_MIN, REASON_MAX = 5, 500
GEOD = Geod(ellps="WGS84")
# May this principal see this person's trail? (uow, principal, person id) -> bool
ScopeCheck = Callable[[UnitOfWork, Principal, str], bool]


def registry_scope(uow: UnitOfWork, principal: Principal, person_id: str) -> bool:
    """Caseload scope from the registry: national roles see everyone; a probation officer sees
    the persons their team manages and the police those in their force area. Unknown persons are
    seen by nobody else (fail closed).
    """
    if principal.role in NATIONAL_ROLES:
        return True
    found = people_service.person_scope(uow, person_id)
    if found is None:
        return False
    team_id, force_area = found
    return principal.can_see_person(team_id, force_area)


def geodesic_m(
    lat: float, lon: float, lats: Sequence[float] | np.ndarray, lons: Sequence[float] | np.ndarray
) -> np.ndarray:
    lat_arr = np.asarray(lats, dtype=float)
    lon_arr = np.asarray(lons, dtype=float)
    if lat_arr.size == 0:
        return np.zeros(0)
    _, _, dist = GEOD.inv(
        np.full(lat_arr.shape, lon), np.full(lat_arr.shape, lat), lon_arr, lat_arr
    )
    return np.asarray(dist, dtype=float)


def _aware(value: datetime, field: str, errors: ErrorCollector) -> bool:
    if value.tzinfo is None:
        errors.add(field, "must include a timezone (UTC 'Z' or an offset)")
        return False
    return True


def _check_common(
    errors: ErrorCollector,
    principal: Principal,
    reason: str | None,
) -> str:
    principal.require(permissions.TRAIL_READ)
    text = (reason or "").strip()
    errors.check(
        REASON_MIN <= len(text) <= REASON_MAX,
        "reason",
        f"a stated reason of {REASON_MIN} to {REASON_MAX} characters is required",
    )
    return text


def _check_window(
    errors: ErrorCollector, start: datetime, end: datetime, longest: timedelta
) -> None:
    if _aware(start, "start", errors) and _aware(end, "end", errors):
        if end <= start:
            errors.add("end", "must be after start")
        elif end - start > longest:
            errors.add("end", f"the window may be at most {longest}")


def _check_place(
    errors: ErrorCollector, lat: float, lon: float, radius_m: float, max_accuracy_m: float
) -> None:
    errors.check(-90 <= lat <= 90, "lat", "must be between -90 and 90")
    errors.check(-180 <= lon <= 180, "lon", "must be between -180 and 180")
    errors.check(
        0 < radius_m <= MAX_RADIUS_M, "radius_m", f"must be over 0 and at most {MAX_RADIUS_M:g}"
    )
    errors.check(0 <= max_accuracy_m <= 1000, "max_accuracy_m", "must be between 0 and 1000")


def find_gaps(
    times: Sequence[datetime], start: datetime, end: datetime, threshold: timedelta
) -> list[Gap]:
    """Stretches longer than ``threshold`` with no fix, including before the first fix and after
    the last one within [start, end]."""
    gaps: list[Gap] = []
    previous = start
    for at in (*times, end):
        if at - previous > threshold:
            gaps.append(Gap(previous, at))
        previous = max(previous, at)
    return gaps


def _proves_position(fix: StoredFix, max_accuracy_m: float) -> bool:
    return (
        fix.valid
        and not fix.implausible
        and not fix.invalid_position
        and fix.lat is not None
        and fix.lon is not None
        and (fix.accuracy_m or 0.0) <= max_accuracy_m
    )


def _sightings(fixes_in: Sequence[StoredFix], lat: float, lon: float) -> list[Sighting]:
    lats = [f.lat for f in fixes_in if f.lat is not None]
    lons = [f.lon for f in fixes_in if f.lon is not None]
    distances = geodesic_m(lat, lon, lats, lons)
    return [
        Sighting(fix, float(d), max(0.0, float(d) - (fix.accuracy_m or 0.0)))
        for fix, d in zip(fixes_in, distances, strict=True)
    ]


def _closest(sightings: Sequence[Sighting]) -> Sighting:
    return min(sightings, key=lambda s: (s.reach_m, s.distance_m, s.fix.fix_time, s.fix.id))


def _visible(uow: UnitOfWork, principal: Principal, person_id: str, scope: ScopeCheck) -> None:
    if not scope(uow, principal, person_id):
        raise NotFound(f"person {person_id}")


def _trail_request(
    uow: UnitOfWork,
    principal: Principal,
    person_id: str | int,
    start: datetime,
    end: datetime,
    reason: str | None,
    gap: timedelta,
    scope: ScopeCheck,
) -> tuple[str, str]:
    """Validate a trail view and check scope; returns (person id, stated reason)."""
    errors = ErrorCollector()
    stated = _check_common(errors, principal, reason)
    _check_window(errors, start, end, MAX_TRAIL_WINDOW)
    errors.check(gap.total_seconds() > 0, "gap_s", "must be more than 0")
    errors.raise_if_any()
    pid = str(person_id)
    _visible(uow, principal, pid, scope)
    return pid, stated


def _audit_trail_view(
    uow: UnitOfWork,
    principal: Principal,
    pid: str,
    start: datetime,
    end: datetime,
    stated: str,
    count: int,
) -> None:
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="trail.view",
        subject_type="person",
        subject_id=pid,
        detail={
            "reason": stated,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "fixes": count,
        },
    )


def trail(
    uow: UnitOfWork,
    principal: Principal,
    person_id: str | int,
    start: datetime,
    end: datetime,
    reason: str | None,
    *,
    gap: timedelta = DEFAULT_GAP,
    scope: ScopeCheck = registry_scope,
) -> Trail:
    """A person's fixes between two times, in fix-time order, with the gaps in it marked."""
    pid, stated = _trail_request(uow, principal, person_id, start, end, reason, gap, scope)
    found = trail_reads.person_fixes(uow.connection, pid, start, end)
    gaps = find_gaps([f.fix_time for f in found], start, end, gap)
    _audit_trail_view(uow, principal, pid, start, end, stated, len(found))
    return Trail(pid, start, end, tuple(found), tuple(gaps))


@dataclass(frozen=True, slots=True, eq=False)
class TrailArrays:
    """A person's trail column by column: the same fixes as ``trail`` in the same order, one
    numpy array per column (row ``i`` of every array is the same fix). Times are integer
    microseconds since 1970 UTC; a missing position or accuracy is NaN. For pages that draw or
    thin a long trail, where one Python object per fix costs more than everything else."""

    person_id: str
    start: datetime
    end: datetime
    ids: npt.NDArray[np.int64]
    times_us: npt.NDArray[np.int64]
    lats: npt.NDArray[np.float64]
    lons: npt.NDArray[np.float64]
    accuracies_m: npt.NDArray[np.float64]
    valid: npt.NDArray[np.bool_]
    implausible: npt.NDArray[np.bool_]
    invalid_position: npt.NDArray[np.bool_]
    gaps: tuple[Gap, ...]

    def __len__(self) -> int:
        return int(self.ids.size)


# Only placeholders are put into this statement; same rows and order as trail_reads.person_fixes.
_TRAIL_COLUMNS_SQL = (
    "SELECT id, fix_time, lat, lon, accuracy_m, valid, implausible, invalid_position FROM fixes "
    "WHERE person_id = {p} AND fix_time >= {p} AND fix_time <= {p} ORDER BY fix_time, id"
)


def _trail_columns(
    uow: UnitOfWork, pid: str, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    # The driver's cursor directly: at a week of minute fixes, SQLAlchemy's row objects and the
    # per-value time conversion cost several times the read itself (docs/performance.md,
    # "Monitoring pages").
    connection = uow.connection
    driver = connection.connection.driver_connection
    assert driver is not None
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    cursor = driver.cursor()
    try:
        cursor.execute(_TRAIL_COLUMNS_SQL.format(p=mark), (pid, to_micros(start), to_micros(end)))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def gaps_of(
    times_us: npt.NDArray[np.int64], start: datetime, end: datetime, gap: timedelta
) -> list[Gap]:
    """``find_gaps`` on sorted microsecond times, without a datetime per fix."""
    edges = np.concatenate(([to_micros(start)], times_us, [to_micros(end)])).astype(np.int64)
    edges = np.maximum.accumulate(edges)  # as find_gaps: a gap starts at the latest time so far
    long = np.flatnonzero(np.diff(edges) > gap // ONE_MICROSECOND)
    return [Gap(from_micros(int(edges[i])), from_micros(int(edges[i + 1]))) for i in long]


def trail_arrays(
    uow: UnitOfWork,
    principal: Principal,
    person_id: str | int,
    start: datetime,
    end: datetime,
    reason: str | None,
    *,
    gap: timedelta = DEFAULT_GAP,
    scope: ScopeCheck = registry_scope,
) -> TrailArrays:
    """``trail`` column by column: the same checks (role, reason, window, scope), the same fixes
    and gaps, and the same single ``trail.view`` audit entry."""
    pid, stated = _trail_request(uow, principal, person_id, start, end, reason, gap, scope)
    rows = _trail_columns(uow, pid, start, end)
    n = len(rows)
    if n:
        ids, times, lats, lons, accuracies, valid, implausible, invalid = zip(*rows, strict=True)
    else:
        ids = times = lats = lons = accuracies = valid = implausible = invalid = ()
    # numpy reads None as NaN for float columns; SQLite gives 0/1 and PostgreSQL bools.
    times_us = np.fromiter(times, dtype=np.int64, count=n)
    found = TrailArrays(
        person_id=pid,
        start=start,
        end=end,
        ids=np.fromiter(ids, dtype=np.int64, count=n),
        times_us=times_us,
        lats=np.array(lats, dtype=np.float64).reshape(n),
        lons=np.array(lons, dtype=np.float64).reshape(n),
        accuracies_m=np.array(accuracies, dtype=np.float64).reshape(n),
        valid=np.array(valid, dtype=np.bool_).reshape(n),
        implausible=np.array(implausible, dtype=np.bool_).reshape(n),
        invalid_position=np.array(invalid, dtype=np.bool_).reshape(n),
        gaps=tuple(gaps_of(times_us, start, end, gap)),
    )
    _audit_trail_view(uow, principal, pid, start, end, stated, n)
    return found


def unknown_devices(uow: UnitOfWork, principal: Principal) -> list[trail_reads.UnknownDevice]:
    """Devices sending fixes while allocated to nobody, for an administrator to sort out."""
    principal.require(permissions.UNKNOWN_DEVICES_READ)
    found = trail_reads.unknown_devices(uow.connection)
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="fixes.unknown_devices",
        subject_type="devices",
        detail={"devices": len(found)},
    )
    return found
