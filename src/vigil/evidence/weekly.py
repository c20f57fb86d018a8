"""Weekly movement overview for one wearer (pure): the day-by-day table, stay points, closest
approaches, device issues and the map. Local days (Europe/London by default) across DST.

* **Time at home**: between consecutive fixes at most ``MAX_STEP`` apart, the time after a fix
  whose accuracy disc reaches the curfew address circle counts as home.
* **Curfew kept**: for each curfew window starting that day: ``broken`` when a fix during it is
  certainly outside (its whole disc outside the address circle) or a curfew alert covers it,
  ``no data`` when no fix fell in it, else ``kept``.
* **Distance travelled**: geodesic sum between consecutive fixes, leaving out fixes less accurate
  than ``MAX_ACCURACY_M`` (they zig-zag and would inflate it).
* **Stay points** (Li et al. 2008): a run of fixes all within ``STAY_RADIUS_M`` of its first fix
  lasting at least ``STAY_MIN``; reported by centroid, arrival, departure and duration.
* **Closest approach** to each exclusion zone: the least distance from a fix to the zone's edge
  (negative = inside), and when.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod
from shapely.geometry import shape

from vigil.evidence.maps import Circle, MapSpec, Point, Polygon, render_svg, zone_shapes

MAX_STEP = timedelta(minutes=30)
MAX_ACCURACY_M = 100.0
STAY_RADIUS_M = 100.0
STAY_MIN = timedelta(minutes=15)
LOW_BATTERY_PCT = 20.0
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_GEOD = Geod(ellps="WGS84")
_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class WeekFix:
    id: int
    time: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None
    battery_pct: float | None = None
    alarms: tuple[str, ...] = ()
    usable: bool = True


@dataclass
class Day:
    date: date
    fixes: int = 0
    distance_m: float = 0.0
    home_s: float | None = None
    curfew: str = "no curfew"
    stays: list[dict[str, Any]] = field(default_factory=list)
    approaches: list[dict[str, Any]] = field(default_factory=list)


def week_bounds(week_start: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(week_start, time(0), tz)
    end = datetime.combine(week_start + timedelta(days=7), time(0), tz)
    return start, end


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _local_xy(
    lats: NDArray[np.float64], lons: NDArray[np.float64], lat0: float, lon0: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = (lons - lon0) * _M_PER_DEG * math.cos(math.radians(lat0))
    y = (lats - lat0) * _M_PER_DEG
    return x, y


def stay_points(
    times: Sequence[datetime],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    lats: NDArray[np.float64],
    lons: NDArray[np.float64],
) -> list[dict[str, Any]]:
    stays = []
    i, n = 0, len(times)
    while i < n:
        j = i + 1
        while j < n and math.hypot(x[j] - x[i], y[j] - y[i]) <= STAY_RADIUS_M:
            j += 1
        if times[j - 1] - times[i] >= STAY_MIN:
            stays.append(
                {
                    "lat": float(lats[i:j].mean()),
                    "lon": float(lons[i:j].mean()),
                    "arrive": times[i],
                    "leave": times[j - 1],
                    "seconds": (times[j - 1] - times[i]).total_seconds(),
                    "fixes": j - i,
                }
            )
            i = j
        else:
            i += 1
    return stays


def curfew_windows(
    condition: dict[str, Any], day: date, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The curfew windows that start on ``day`` (local), as aware datetimes."""
    out = []
    for row in condition.get("timetable") or []:
        if DAY_NAMES[day.weekday()] not in row.get("days", []):
            continue
        sh, sm = (int(v) for v in str(row["start"]).split(":"))
        eh, em = (int(v) for v in str(row["end"]).split(":"))
        start = datetime.combine(day, time(sh, sm), tz)
        end_day = day + timedelta(days=1) if (eh, em) <= (sh, sm) else day
        out.append((start, datetime.combine(end_day, time(eh, em), tz)))
    return out


@dataclass
class Overview:
    person_id: str
    week_start: date
    timezone: str
    days: list[Day]
    zones: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    device: dict[str, Any]
    map_svg: str
    fixes: int


def build_overview(
    person_id: str,
    week_start: date,
    fixes: Sequence[WeekFix],
    conditions: Sequence[dict[str, Any]],
    alerts: Sequence[dict[str, Any]],
    timezone: str = "Europe/London",
) -> Overview:
    tz = ZoneInfo(timezone)
    start, end = week_bounds(week_start, tz)
    ordered = sorted((f for f in fixes if start <= f.time < end), key=lambda f: (f.time, f.id))
    good = [f for f in ordered if f.usable]
    lats = np.array([f.lat for f in good], dtype=float)
    lons = np.array([f.lon for f in good], dtype=float)
    acc = np.array([f.accuracy_m or 0.0 for f in good], dtype=float)
    times = [f.time for f in good]
    lat0 = float(lats.mean()) if len(good) else 52.0
    lon0 = float(lons.mean()) if len(good) else -1.5
    x, y = _local_xy(lats, lons, lat0, lon0)

    curfew = next((c for c in conditions if c.get("type") == "curfew"), None)
    home_d: NDArray[np.float64] | None = None
    home_r = 0.0
    if (
        curfew
        and isinstance(curfew.get("geometry"), dict)
        and curfew["geometry"]["type"] == "Point"
    ):
        hlon, hlat = curfew["geometry"]["coordinates"][:2]
        home_r = float(curfew.get("radius_m") or 0.0)
        _, _, d = _GEOD.inv(np.full(len(good), hlon), np.full(len(good), hlat), lons, lats)
        home_d = np.asarray(d, dtype=float)

    exclusions = [c for c in conditions if c.get("type") == "exclusion_zone"]
    zone_dist: list[NDArray[np.float64]] = []
    for zone in exclusions:
        zone_dist.append(distance_to_edge(zone, lats, lons, lat0, lon0))

    # Step lengths between consecutive accurate-enough fixes.
    accurate = acc <= MAX_ACCURACY_M
    idx = np.nonzero(accurate)[0]
    step = np.zeros(len(good))
    if len(idx) > 1:
        _, _, d = _GEOD.inv(lons[idx[:-1]], lats[idx[:-1]], lons[idx[1:]], lats[idx[1:]])
        step[idx[1:]] = d

    seconds = np.array([t.timestamp() for t in times], dtype=float)
    days: list[Day] = []
    for k in range(7):
        day = week_start + timedelta(days=k)
        d0, d1 = week_bounds(day, tz)[0], datetime.combine(day + timedelta(days=1), time(0), tz)
        lo = int(np.searchsorted(seconds, d0.timestamp(), side="left"))
        hi = int(np.searchsorted(seconds, d1.timestamp(), side="left"))
        entry = Day(date=day, fixes=hi - lo, distance_m=float(step[lo + 1 : hi].sum()))
        if home_d is not None:
            at_home = 0.0
            for i in range(lo, hi):
                nxt = seconds[i + 1] if i + 1 < len(seconds) else d1.timestamp()
                gap = min(nxt, d1.timestamp()) - seconds[i]
                if 0 < gap <= MAX_STEP.total_seconds() and home_d[i] - acc[i] <= home_r:
                    at_home += gap
            entry.home_s = at_home
        if curfew is not None:
            entry.curfew = _curfew_status(curfew, day, tz, seconds, home_d, acc, home_r, alerts)
        entry.stays = stay_points(times[lo:hi], x[lo:hi], y[lo:hi], lats[lo:hi], lons[lo:hi])
        for stay in entry.stays:
            if home_d is not None:
                _, _, dh = _GEOD.inv(hlon, hlat, stay["lon"], stay["lat"])
                stay["home"] = bool(dh <= home_r + STAY_RADIUS_M)
        for zone, dist in zip(exclusions, zone_dist, strict=True):
            if hi > lo:
                j = lo + int(np.argmin(dist[lo:hi]))
                entry.approaches.append(
                    {
                        "zone": zone.get("label") or f"zone {zone.get('id')}",
                        "distance_m": round(float(dist[j]), 1),
                        "time": times[j],
                    }
                )
        days.append(entry)

    zones_summary = []
    for zone, dist in zip(exclusions, zone_dist, strict=True):
        best: int | None = int(np.argmin(dist)) if len(dist) else None
        zones_summary.append(
            {
                "label": zone.get("label") or f"zone {zone.get('id')}",
                "closest_m": round(float(dist[best]), 1) if best is not None else None,
                "closest_time": times[best] if best is not None else None,
            }
        )

    return Overview(
        person_id=person_id,
        week_start=week_start,
        timezone=timezone,
        days=days,
        zones=zones_summary,
        alerts=[a for a in alerts if _in_week(a, start, end)],
        device=_device_issues(ordered, start, end),
        map_svg=_week_map(person_id, conditions, good, days),
        fixes=len(ordered),
    )


def _in_week(alert: dict[str, Any], start: datetime, end: datetime) -> bool:
    began = alert.get("started_at")
    if not isinstance(began, str):
        return False
    at = datetime.fromisoformat(began)
    return start <= at < end


def distance_to_edge(
    zone: dict[str, Any],
    lats: NDArray[np.float64],
    lons: NDArray[np.float64],
    lat0: float,
    lon0: float,
) -> NDArray[np.float64]:
    """Metres from each position to a zone's edge, negative inside: geodesic for a circle,
    in a local plane around (lat0, lon0) for a polygon."""
    geometry = zone.get("geometry") or {}
    if not len(lats):
        return np.zeros(0)
    if geometry.get("type") == "Point":
        zlon, zlat = geometry["coordinates"][:2]
        _, _, d = _GEOD.inv(np.full(len(lats), zlon), np.full(len(lats), zlat), lons, lats)
        return np.asarray(d, dtype=float) - float(zone.get("radius_m") or 0.0)
    # Polygons: measure in the local plane (well under a metre off at zone scale).
    poly = shape(geometry)
    from shapely.ops import transform

    def project(xs: Any, ys: Any, zs: Any = None) -> tuple[Any, Any]:
        return _local_xy(np.asarray(ys), np.asarray(xs), lat0, lon0)

    local = transform(project, poly)
    x, y = _local_xy(lats, lons, lat0, lon0)
    points = shapely.points(x, y)
    outside = np.asarray(shapely.distance(local.boundary, points), dtype=float)
    inside = np.asarray(shapely.contains_xy(local, x, y))
    return np.where(inside, -outside, outside)


def _curfew_status(
    curfew: dict[str, Any],
    day: date,
    tz: ZoneInfo,
    seconds: NDArray[np.float64],
    home_d: NDArray[np.float64] | None,
    acc: NDArray[np.float64],
    home_r: float,
    alerts: Sequence[dict[str, Any]],
) -> str:
    windows = curfew_windows(curfew, day, tz)
    if not windows:
        return "no curfew"
    status = "kept"
    for w0, w1 in windows:
        lo = int(np.searchsorted(seconds, w0.timestamp(), side="left"))
        hi = int(np.searchsorted(seconds, w1.timestamp(), side="left"))
        flagged = any(
            a.get("kind") == "curfew"
            and isinstance(a.get("started_at"), str)
            and w0 <= datetime.fromisoformat(a["started_at"]) < w1
            for a in alerts
        )
        if flagged or (home_d is not None and bool(np.any(home_d[lo:hi] - acc[lo:hi] > home_r))):
            return "broken"
        if hi == lo:
            status = "no data"
    return status


def _device_issues(fixes: Sequence[WeekFix], start: datetime, end: datetime) -> dict[str, Any]:
    battery = [(f.time, f.battery_pct) for f in fixes if f.battery_pct is not None]
    low = [t for t, b in battery if b is not None and b < LOW_BATTERY_PCT]
    times = [start, *(f.time for f in fixes), end]
    gaps = sorted(
        ((b - a, a, b) for a, b in itertools.pairwise(times) if b - a > MAX_STEP),
        reverse=True,
    )
    alarms: dict[str, int] = {}
    for f in fixes:
        for alarm in f.alarms:
            alarms[alarm] = alarms.get(alarm, 0) + 1
    return {
        "battery_min_pct": min((b for _, b in battery if b is not None), default=None),
        "low_battery_fixes": len(low),
        "first_low_battery": low[0] if low else None,
        "alarms": alarms,
        "no_signal": [{"from": a, "to": b, "seconds": d.total_seconds()} for d, a, b in gaps[:5]],
        "unusable_fixes": sum(1 for f in fixes if not f.usable),
    }


def _week_map(
    person_id: str,
    conditions: Sequence[dict[str, Any]],
    fixes: Sequence[WeekFix],
    days: Sequence[Day],
) -> str:
    circles: list[Circle] = []
    polygons: list[Polygon] = []
    for c in conditions:
        if c.get("type") in ("exclusion_zone", "inclusion_zone", "curfew"):
            found_c, found_p = zone_shapes(c, str(c.get("label") or c.get("address") or ""))
            circles += found_c
            polygons += found_p
    stays = [s for day in days for s in day.stays]
    for s in stays:
        circles.append(Circle(s["lat"], s["lon"], 25.0, "", "stay"))
    spec = MapSpec(
        title=f"Movements of person {person_id}",
        circles=circles,
        polygons=polygons,
        trail=[(f.lat, f.lon) for f in fixes],
        points=[Point(s["lat"], s["lon"], f"{int(s['seconds'] // 60)} min") for s in stays[:40]],
        width=680,
        height=460,
    )
    return render_svg(spec)
