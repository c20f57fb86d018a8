"""Rules behind the monitoring pages. Plain Python and numpy; no framework imports.

* the queue's order (risk to the victim, new before acknowledged, severity, age) and its counts;
* thinning a long trail for display without dropping the fixes that matter (inside a zone or
  its buffer, or the ends of a gap);
* what a wearer is shown of an exclusion zone: a shape that keeps them out of the real zone but
  is not centred on the protected person's address;
* the curfew timetable editor's rows (one per day, copy one day to all).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from shapely import contains_xy
from shapely.geometry import Point, Polygon, shape

from vigil.geo.projection import metres_per_degree

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SEVERITY_ORDER = ("critical", "high", "medium", "low")
# A device that needs looking after. A removed strap or a tampered tag is not among them: the
# wearer may be getting out of monitoring, so it counts as an open alert like a violation.
DEVICE_KINDS = frozenset({"battery_low", "no_communication", "no_gps"})
KIND_LABELS = {
    "exclusion_zone": "Entered an exclusion zone",
    "possible_transit": "Possibly passing through an exclusion zone",
    "approach_warning": "Approaching an exclusion zone",
    "approach_pattern": "Repeatedly approaching an exclusion zone",
    "curfew": "Absent during curfew",
    "inclusion_zone": "Left an inclusion zone",
    "proximity": "Close to the protected person",
    "strap_removed": "Tag strap removed",
    "tamper": "Tag tampered with",
    "sos": "Protected person pressed SOS",
    "battery_low": "Tag battery low",
    "no_communication": "Tag not reporting",
    "no_gps": "Tag has no GPS position",
    "alcohol": "Alcohol detected",
}


# --- the queue -------------------------------------------------------------------------------


# Alerts about the protected person's safety right now: the wearer is near them or inside the
# zone around their home, or they pressed SOS. These lead the queue whatever else is waiting.
VICTIM_RISK_KINDS = frozenset({"sos", "proximity", "exclusion_zone"})


def queue_key(alert: dict[str, Any]) -> tuple[int, int, int, str, int]:
    """Risk to the victim first (SOS, proximity, exclusion zone); then new before acknowledged
    (one already being handled waits behind one nobody has picked up); then the most severe;
    then the oldest (longest waiting)."""
    victim = 0 if alert.get("kind") in VICTIM_RISK_KINDS else 1
    picked_up = 0 if alert.get("status", "new") == "new" else 1
    severity = alert.get("severity", "low")
    rank = SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)
    return (victim, picked_up, rank, str(alert.get("created_at") or ""), int(alert.get("id") or 0))


# --- the call protocol, per kind of alert ----------------------------------------------------

# What the operator asks of the wearer, by kind: "told to leave the zone" means nothing for a
# flat battery or a removed strap.
_WEARER_ASK = {
    "exclusion_zone": "asked where they are and told to leave the zone",
    "possible_transit": "asked where they are going and told to keep out of the zone",
    "approach_warning": "told they are close to a zone they must keep out of",
    "approach_pattern": "told their repeated approaches to the zone are recorded",
    "proximity": "asked where they are and told to move away from the protected person",
    "curfew": "asked where they are and told to go home now",
    "inclusion_zone": "asked where they are and told to return to the permitted area",
    "strap_removed": "asked why the strap is off, told to stay where they are for a visit",
    "tamper": "asked about the tag and told it will be checked",
    "sos": "asked where they are",
    "battery_low": "told to charge the tag now",
    "no_communication": "asked where they are and to check the tag is charged and on",
    "no_gps": "asked where they are and to go outdoors for a position",
    "alcohol": "asked about drinking and reminded of the condition",
}
# Kinds where the protected person may be in danger: they are called, and the police told.
_VICTIM_CALL_KINDS = VICTIM_RISK_KINDS | {"possible_transit", "approach_pattern", "strap_removed"}


def call_steps(kind: str) -> tuple[tuple[str, str], ...]:
    """The calls an operator makes for one kind of alert, in order, as (key, label)."""
    steps: list[tuple[str, str]] = []
    if kind in _VICTIM_CALL_KINDS:
        steps.append(
            ("protected_person", "Protected person called: safe and told what is happening")
        )
    wearer = _WEARER_ASK.get(kind, "asked where they are")
    steps.append(("wearer", f"Wearer called: {wearer}"))
    if kind in _VICTIM_CALL_KINDS:
        steps.append(("police", "Police control room told"))
    steps.append(("officer", "Responsible officer told"))
    return tuple(steps)


def order_queue(alerts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(alerts, key=queue_key)


def severity_counts(alerts: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for alert in alerts:
        if alert.get("severity") in counts:
            counts[alert["severity"]] += 1
    return counts


def age_text(since: datetime, now: datetime) -> str:
    """'3 min', '2 h 5 min', '4 days': how long something has waited, for people to scan."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


# --- caseload status -------------------------------------------------------------------------


class Status(StrEnum):
    COMPLIANT = "compliant"
    OPEN_ALERTS = "open_alerts"
    DEVICE_ISSUES = "device_issues"
    NO_ORDER = "no_order"


STATUS_LABELS = {
    Status.COMPLIANT: "Compliant",
    Status.OPEN_ALERTS: "Open alerts",
    Status.DEVICE_ISSUES: "Device issues",
    Status.NO_ORDER: "No active order",
}
STATUS_TAGS = {
    Status.COMPLIANT: "green",
    Status.OPEN_ALERTS: "red",
    Status.DEVICE_ISSUES: "orange",
    Status.NO_ORDER: "grey",
}
# A tag reports every minute or so; longer than this without a fix is itself a device issue.
STALE_FIX = timedelta(minutes=30)


# The caseload's order: those needing attention first, compliant wearers last.
CASELOAD_ORDER = (Status.OPEN_ALERTS, Status.DEVICE_ISSUES, Status.NO_ORDER, Status.COMPLIANT)


def caseload_key(status: Status, severities: Iterable[str], last_name: str) -> tuple[int, int, str]:
    """By status; within a status the wearer with the most severe open alert first (a removed
    strap, critical, before a low battery); then by name."""
    ranks = [SEVERITY_ORDER.index(s) for s in severities if s in SEVERITY_ORDER]
    return (CASELOAD_ORDER.index(status), min(ranks, default=len(SEVERITY_ORDER)), last_name)


def person_status(
    has_active_order: bool,
    open_kinds: Sequence[str],
    last_fix_at: datetime | None,
    now: datetime,
    has_tag: bool,
) -> Status:
    """Open violations (and a removed or tampered tag) outrank device problems; a silent tag
    is a device problem."""
    if any(kind not in DEVICE_KINDS for kind in open_kinds):
        return Status.OPEN_ALERTS
    if not has_active_order:
        return Status.NO_ORDER
    stale = has_tag and (last_fix_at is None or now - last_fix_at > STALE_FIX)
    if open_kinds or stale:
        return Status.DEVICE_ISSUES
    return Status.COMPLIANT


# --- geometry helpers ------------------------------------------------------------------------


def to_plane(lat0: float, lon0: float, lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, ...]:
    """Metres east/north of (lat0, lon0); equirectangular is well under a metre off at city size."""
    m_lat, m_lon = metres_per_degree(lat0)
    return (lon - lon0) * m_lon, (lat - lat0) * m_lat


def from_plane(lat0: float, lon0: float, x: float, y: float) -> tuple[float, float]:
    m_lat, m_lon = metres_per_degree(lat0)
    return lat0 + y / m_lat, lon0 + x / m_lon


def zone_mask(lat: FloatArray, lon: FloatArray, zones: Sequence[dict[str, Any]]) -> BoolArray:
    """Fixes inside any zone grown by its warning buffer (the fixes a reviewer must see)."""
    inside = np.zeros(lat.shape, dtype=bool)
    for zone in zones:
        geometry = zone.get("geometry") or {}
        reach = float(zone.get("buffer_m") or 0.0)
        if geometry.get("type") == "Point":
            lon0, lat0 = geometry["coordinates"][:2]
            x, y = to_plane(lat0, lon0, lat, lon)
            inside |= np.hypot(x, y) <= float(zone.get("radius_m") or 0.0) + reach
        elif geometry.get("type") in ("Polygon", "MultiPolygon"):
            poly = shape(geometry)
            lat0 = poly.centroid.y
            m_lat, m_lon = metres_per_degree(lat0)
            # Grow in degrees with the smaller scale so the buffer is never too thin.
            grown = poly.buffer(reach / min(m_lat, m_lon)) if reach else poly
            inside |= contains_xy(grown, lon, lat)
    return inside


# --- trail thinning --------------------------------------------------------------------------


def _douglas_peucker(x: FloatArray, y: FloatArray, tolerance: float, keep: BoolArray) -> None:
    """Mark in ``keep`` the points Douglas-Peucker needs between each pair of kept points."""
    stack: list[tuple[int, int]] = []
    kept = [int(i) for i in np.flatnonzero(keep)]
    for a, b in itertools.pairwise(kept):
        if b - a > 1:
            stack.append((a, b))
    while stack:
        a, b = stack.pop()
        xs, ys = x[a + 1 : b], y[a + 1 : b]
        dx, dy = x[b] - x[a], y[b] - y[a]
        length = math.hypot(dx, dy)
        if length == 0.0:
            distances = np.hypot(xs - x[a], ys - y[a])
        else:
            distances = np.abs(dy * (xs - x[a]) - dx * (ys - y[a])) / length
        worst = int(np.argmax(distances))
        if distances[worst] > tolerance:
            middle = a + 1 + worst
            keep[middle] = True
            if middle - a > 1:
                stack.append((a, middle))
            if b - middle > 1:
                stack.append((middle, b))


def thin_trail(
    lat: FloatArray,
    lon: FloatArray,
    tolerance_m: float,
    pinned: BoolArray | None = None,
) -> npt.NDArray[np.int64]:
    """Indices of the points to draw: Douglas-Peucker within ``tolerance_m`` metres, plus every
    pinned point (inside a zone, a gap's ends), plus the first and last."""
    n = len(lat)
    if n <= 2:
        return np.arange(n, dtype=np.int64)
    keep = np.zeros(n, dtype=bool) if pinned is None else pinned.astype(bool).copy()
    keep[0] = keep[-1] = True
    x, y = to_plane(float(lat[0]), float(lon[0]), lat, lon)
    _douglas_peucker(x, y, tolerance_m, keep)
    return np.flatnonzero(keep).astype(np.int64)


def gap_ends(times: Sequence[float] | FloatArray, gap_s: float) -> BoolArray:
    """The fixes on either side of a silence longer than ``gap_s``: a gap must stay visible."""
    t = np.asarray(times, dtype=np.float64)
    out = np.zeros(len(t), dtype=bool)
    if len(t) < 2:
        return out
    long = np.flatnonzero(np.diff(t) > gap_s)
    out[long] = True
    out[long + 1] = True
    return out


# --- what the wearer is shown ----------------------------------------------------------------

VERTICES = 9
GRID_M = 25.0


@dataclass(frozen=True)
class WearerZone:
    label: str
    geometry: dict[str, Any]  # always a Polygon: never a point or a circle around an address
    note: str


def _unit(key: bytes, message: str, count: int) -> list[float]:
    """``count`` numbers in [0, 1) from a keyed hash: stable for the same zone, unguessable
    without the key (so repeated views cannot be averaged back to the address)."""
    digest = b""
    counter = 0
    while len(digest) < count * 4:
        digest += hmac.new(key, f"{message}:{counter}".encode(), hashlib.sha256).digest()
        counter += 1
    return [int.from_bytes(digest[i * 4 : i * 4 + 4], "big") / 2**32 for i in range(count)]


def wearer_zone(
    key: bytes, seed: str, lat: float, lon: float, radius_m: float, buffer_m: float = 0.0
) -> dict[str, Any]:
    """A polygon the wearer is told to keep out of, for a circular exclusion zone.

    It contains the whole real zone and its buffer (keeping out of it keeps them out of the real
    one), but its centre is moved 35–60 % of the radius in a direction only the key knows, its
    outline is irregular and its corners are snapped to a 25 m grid, so neither the centroid,
    the middle of its bounding box nor the centre of its largest inscribed circle is the address.
    """
    reach = radius_m + buffer_m
    u = _unit(key, seed, 2 + VERTICES)
    shift = reach * (0.35 + 0.25 * u[0])
    bearing = 2 * math.pi * u[1]
    cx, cy = shift * math.sin(bearing), shift * math.cos(bearing)
    # Any point within ``reach`` of the address is within reach + shift of the shifted centre.
    needed = Point(0.0, 0.0).buffer(reach, quad_segs=32)
    base = (reach + shift) / math.cos(math.pi / VERTICES)
    grow = 1.0
    while True:
        corners = []
        for i in range(VERTICES):
            angle = 2 * math.pi * (i + 0.35 * (u[2 + i] - 0.5)) / VERTICES
            rho = base * grow * (1.0 + 0.3 * u[2 + i])
            x = round((cx + rho * math.sin(angle)) / GRID_M) * GRID_M
            y = round((cy + rho * math.cos(angle)) / GRID_M) * GRID_M
            corners.append((x, y))
        polygon = Polygon(corners)
        if polygon.is_valid and polygon.contains(needed):
            break
        grow *= 1.05
    ring = []
    for x, y in corners + corners[:1]:
        plat, plon = from_plane(lat, lon, x, y)
        ring.append([round(plon, 5), round(plat, 5)])
    return {"type": "Polygon", "coordinates": [ring]}


def wearer_view(key: bytes, conditions: Iterable[dict[str, Any]]) -> list[WearerZone]:
    """What the wearer's leaflet or app shows of their exclusion zones.

    A zone protecting a person is always disguised; a polygon the court drew (a street, a town
    centre) is shown as drawn, because it was drawn to be shown and does not mark one address.
    """
    out = []
    for number, condition in enumerate(conditions, start=1):
        if condition.get("type") != "exclusion_zone":
            continue
        geometry = condition["geometry"]
        label = f"Exclusion zone {number}"
        if geometry["type"] == "Point":
            lon, lat = geometry["coordinates"][:2]
            seed = (
                f"{condition.get('protected_person_id', '')}:{lat:.5f}:{lon:.5f}:"
                f"{condition.get('radius_m')}"
            )
            shown = wearer_zone(
                key,
                seed,
                lat,
                lon,
                float(condition.get("radius_m") or 0.0),
                float(condition.get("buffer_m") or 0.0),
            )
            note = "Keep out of the whole shaded area at all times."
        else:
            shown, note = geometry, "Keep out of the shaded area."
        out.append(WearerZone(label, shown, note))
    return out


# --- the curfew timetable editor -------------------------------------------------------------

DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def rows_from_days(days: dict[str, tuple[str, str] | None]) -> list[dict[str, Any]]:
    """Per-day (start, end) to the order's timetable rows, days with equal times grouped."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for day in DAY_NAMES:
        window = days.get(day)
        if window is not None:
            grouped.setdefault(window, []).append(day)
    return [{"days": group, "start": start, "end": end} for (start, end), group in grouped.items()]


def days_from_rows(rows: Iterable[dict[str, Any]]) -> dict[str, tuple[str, str] | None]:
    out: dict[str, tuple[str, str] | None] = dict.fromkeys(DAY_NAMES)
    for row in rows:
        for day in row.get("days", []):
            if day in out:
                out[day] = (str(row["start"]), str(row["end"]))
    return out


def copy_day_to_all(
    days: dict[str, tuple[str, str] | None], source: str
) -> dict[str, tuple[str, str] | None]:
    if source not in DAY_NAMES:
        raise ValueError(f"copy_from: {source!r} is not a day")
    return dict.fromkeys(DAY_NAMES, days.get(source))
