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
from typing import Any, NotRequired, TypedDict
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod
from shapely.geometry import shape

from vigil.alerts.alert_reads import AlertRecord
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


class Stay(TypedDict):
    """A place he stayed (a stay point): where, from when to when, over how many fixes."""

    lat: float
    lon: float
    arrive: datetime
    leave: datetime
    seconds: float
    fixes: int
    # Whether it was at home, said when the order gives a home.
    home: NotRequired[bool]


class Approach(TypedDict):
    """His closest approach to an exclusion zone on one day."""

    zone: str
    distance_m: float
    time: datetime


@dataclass
class Day:
    date: date
    fixes: int = 0
    distance_m: float = 0.0
    home_s: float | None = None
    curfew: str = "no curfew"
    stays: list[Stay] = field(default_factory=list)
    approaches: list[Approach] = field(default_factory=list)
    # Still to come when the overview was made (a week reported before it ended): no figures.
    to_come: bool = False


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
) -> list[Stay]:
    stays: list[Stay] = []
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
    alerts: list[AlertRecord]
    device: dict[str, Any]
    map_svg: str
    fixes: int
    wearer: str = ""  # the wearer as people name him (name and CRN)
    until: datetime | None = None  # the overview covers the week up to here (now, mid-week)


@dataclass(frozen=True)
class _Week:
    """The week's usable fixes as arrays, and what each is measured against."""

    tz: ZoneInfo
    until: datetime  # the end of the week, or now when the week has not ended
    times: list[datetime]
    seconds: NDArray[np.float64]
    lats: NDArray[np.float64]
    lons: NDArray[np.float64]
    acc: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    step: NDArray[np.float64]  # metres from the previous accurate-enough fix
    curfew: dict[str, Any] | None
    home: tuple[float, float, float] | None  # lat, lon, radius
    home_d: NDArray[np.float64] | None
    exclusions: list[dict[str, Any]]
    zone_dist: list[NDArray[np.float64]]


def build_overview(
    person_id: str,
    week_start: date,
    fixes: Sequence[WeekFix],
    conditions: Sequence[dict[str, Any]],
    alerts: Sequence[AlertRecord],
    timezone: str = "Europe/London",
    *,
    now: datetime | None = None,
    wearer: str = "",
) -> Overview:
    """The overview of the week beginning ``week_start``; made before the week ended (``now``
    inside it), the days still to come are marked so and the week's figures stop at ``now``."""
    tz = ZoneInfo(timezone)
    start, end = week_bounds(week_start, tz)
    until = max(start, min(end, now)) if now is not None else end
    ordered = sorted((f for f in fixes if start <= f.time < until), key=lambda f: (f.time, f.id))
    week = _measure([f for f in ordered if f.usable], conditions, tz, until)
    days = [_day(week, week_start + timedelta(days=k), alerts) for k in range(7)]
    zones_summary = []
    for zone, dist in zip(week.exclusions, week.zone_dist, strict=True):
        best: int | None = int(np.argmin(dist)) if len(dist) else None
        zones_summary.append(
            {
                "label": zone.get("label") or f"zone {zone.get('id')}",
                "closest_m": round(float(dist[best]), 1) if best is not None else None,
                "closest_time": week.times[best] if best is not None else None,
            }
        )
    good = [f for f in ordered if f.usable]
    return Overview(
        person_id=person_id,
        week_start=week_start,
        timezone=timezone,
        days=days,
        zones=zones_summary,
        alerts=[a for a in alerts if _in_week(a, start, until)],
        device=_device_issues(ordered, start, until),
        map_svg=_week_map(wearer or f"person {person_id}", conditions, good, days),
        fixes=len(ordered),
        wearer=wearer,
        until=until if until < end else None,
    )


def _measure(
    good: Sequence[WeekFix], conditions: Sequence[dict[str, Any]], tz: ZoneInfo, until: datetime
) -> _Week:
    lats = np.array([f.lat for f in good], dtype=float)
    lons = np.array([f.lon for f in good], dtype=float)
    acc = np.array([f.accuracy_m or 0.0 for f in good], dtype=float)
    lat0 = float(lats.mean()) if len(good) else 52.0
    lon0 = float(lons.mean()) if len(good) else -1.5
    x, y = _local_xy(lats, lons, lat0, lon0)
    curfew = next((c for c in conditions if c.get("type") == "curfew"), None)
    home: tuple[float, float, float] | None = None
    home_d: NDArray[np.float64] | None = None
    geometry = (curfew or {}).get("geometry")
    if curfew and isinstance(geometry, dict) and geometry["type"] == "Point":
        hlon, hlat = geometry["coordinates"][:2]
        home = (float(hlat), float(hlon), float(curfew.get("radius_m") or 0.0))
        _, _, d = _GEOD.inv(np.full(len(good), hlon), np.full(len(good), hlat), lons, lats)
        home_d = np.asarray(d, dtype=float)
    exclusions = [c for c in conditions if c.get("type") == "exclusion_zone"]
    # Step lengths between consecutive accurate-enough fixes.
    idx = np.nonzero(acc <= MAX_ACCURACY_M)[0]
    step = np.zeros(len(good))
    if len(idx) > 1:
        _, _, d = _GEOD.inv(lons[idx[:-1]], lats[idx[:-1]], lons[idx[1:]], lats[idx[1:]])
        step[idx[1:]] = d
    return _Week(
        tz,
        until,
        [f.time for f in good],
        np.array([f.time.timestamp() for f in good], dtype=float),
        lats,
        lons,
        acc,
        x,
        y,
        step,
        curfew,
        home,
        home_d,
        exclusions,
        [distance_to_edge(zone, lats, lons, lat0, lon0) for zone in exclusions],
    )


def _day(week: _Week, day: date, alerts: Sequence[AlertRecord]) -> Day:
    """One local day's figures, up to the end of the day or ``week.until``, whichever is first."""
    d0 = datetime.combine(day, time(0), week.tz)
    if d0 >= week.until:
        return Day(date=day, to_come=True, curfew="to come")
    d1 = min(datetime.combine(day + timedelta(days=1), time(0), week.tz), week.until)
    seconds = week.seconds
    lo = int(np.searchsorted(seconds, d0.timestamp(), side="left"))
    hi = int(np.searchsorted(seconds, d1.timestamp(), side="left"))
    entry = Day(date=day, fixes=hi - lo, distance_m=float(week.step[lo + 1 : hi].sum()))
    if week.home_d is not None and week.home is not None:
        near_home = week.home_d - week.acc <= week.home[2]
        entry.home_s = _time_at_home(week.seconds, near_home, lo, hi, d1.timestamp())
    if week.curfew is not None:
        entry.curfew = _curfew_status(week, day, alerts)
    entry.stays = stay_points(
        week.times[lo:hi], week.x[lo:hi], week.y[lo:hi], week.lats[lo:hi], week.lons[lo:hi]
    )
    for stay in entry.stays:
        if week.home is not None:
            _, _, dh = _GEOD.inv(week.home[1], week.home[0], stay["lon"], stay["lat"])
            stay["home"] = bool(dh <= week.home[2] + STAY_RADIUS_M)
    for zone, dist in zip(week.exclusions, week.zone_dist, strict=True):
        if hi > lo:
            j = lo + int(np.argmin(dist[lo:hi]))
            entry.approaches.append(
                {
                    "zone": zone.get("label") or f"zone {zone.get('id')}",
                    "distance_m": round(float(dist[j]), 1),
                    "time": week.times[j],
                }
            )
    return entry


def _time_at_home(
    seconds: NDArray[np.float64], near_home: NDArray[np.bool_], lo: int, hi: int, day_end: float
) -> float:
    """Seconds after each of the day's fixes whose disc reaches home, until the next fix (gaps
    over ``MAX_STEP`` count for nothing: where he was then is not known)."""
    at_home = 0.0
    for i in range(lo, hi):
        nxt = seconds[i + 1] if i + 1 < len(seconds) else day_end
        gap = min(nxt, day_end) - seconds[i]
        if 0 < gap <= MAX_STEP.total_seconds() and near_home[i]:
            at_home += gap
    return at_home


def _in_week(alert: AlertRecord, start: datetime, end: datetime) -> bool:
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
    def project(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(_local_xy(coords[:, 1], coords[:, 0], lat0, lon0))

    local = shapely.transform(shape(geometry), project)
    x, y = _local_xy(lats, lons, lat0, lon0)
    points = shapely.points(x, y)
    outside = np.asarray(shapely.distance(local.boundary, points), dtype=float)
    inside = np.asarray(shapely.contains_xy(local, x, y))
    return np.where(inside, -outside, outside)


def _curfew_status(week: _Week, day: date, alerts: Sequence[AlertRecord]) -> str:
    """Kept, broken or no data over the day's curfew windows; a window that has not begun
    when the overview is made is still to come, and one under way counts up to now."""
    windows = curfew_windows(week.curfew or {}, day, week.tz)
    if not windows:
        return "no curfew"
    if all(w0 >= week.until for w0, _ in windows):
        return "to come"
    status = "kept"
    for w0, w1 in windows:
        if w0 >= week.until:
            continue
        lo = int(np.searchsorted(week.seconds, w0.timestamp(), side="left"))
        hi = int(np.searchsorted(week.seconds, min(w1, week.until).timestamp(), side="left"))
        flagged = any(
            a.get("kind") == "curfew"
            and isinstance(a.get("started_at"), str)
            and w0 <= datetime.fromisoformat(a["started_at"]) < w1
            for a in alerts
        )
        home_r = week.home[2] if week.home is not None else 0.0
        away = week.home_d is not None and bool(
            np.any(week.home_d[lo:hi] - week.acc[lo:hi] > home_r)
        )
        if flagged or away:
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
    wearer: str,
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
        title=f"Movements of {wearer}",
        circles=circles,
        polygons=polygons,
        trail=[(f.lat, f.lon) for f in fixes],
        points=_stay_labels(stays),
        width=680,
        height=460,
    )
    return render_svg(spec)


def _stay_labels(stays: Sequence[Stay]) -> list[Point]:
    """One label a place: stays within ``STAY_RADIUS_M`` of a place already labelled add to its
    count and time (a wearer home every night would print seven labels on top of each other)."""
    places: list[dict[str, Any]] = []
    for stay in stays:
        for place in places:
            _, _, d = _GEOD.inv(place["lon"], place["lat"], stay["lon"], stay["lat"])
            if d <= STAY_RADIUS_M:
                place["count"] += 1
                place["seconds"] += stay["seconds"]
                break
        else:
            places.append({**stay, "count": 1})
    return [
        Point(p["lat"], p["lon"], f"{p['count']} stays, {p['seconds'] / 3600:.1f} h")
        if p["count"] > 1
        else Point(p["lat"], p["lon"], f"{int(p['seconds'] // 60)} min")
        for p in places[:40]
    ]
