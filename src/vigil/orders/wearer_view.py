"""What the wearer is shown of an exclusion zone: a shape that keeps them out of the real zone
but is not centred on the protected person's address. A polygon the court drew is shown as drawn."""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point, Polygon

from vigil.orders.model import ConditionType
from vigil.settings import Settings
from vigil.tracking.thinning import from_plane

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


def _corners(cx: float, cy: float, size: float, u: list[float]) -> list[tuple[float, float]]:
    """An irregular polygon of ``VERTICES`` corners around (cx, cy), snapped to the grid."""
    corners = []
    for i in range(VERTICES):
        angle = 2 * math.pi * (i + 0.35 * (u[i] - 0.5)) / VERTICES
        rho = size * (1.0 + 0.3 * u[i])
        x = round((cx + rho * math.sin(angle)) / GRID_M) * GRID_M
        y = round((cy + rho * math.cos(angle)) / GRID_M) * GRID_M
        corners.append((x, y))
    return corners


def wearer_zone_geojson(
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
        corners = _corners(cx, cy, base * grow, u[2:])
        polygon = Polygon(corners)
        if polygon.is_valid and polygon.contains(needed):
            break
        grow *= 1.05
    ring = []
    for x, y in corners + corners[:1]:
        plat, plon = from_plane(lat, lon, x, y)
        ring.append([round(plon, 5), round(plat, 5)])
    return {"type": "Polygon", "coordinates": [ring]}


def _shown(key: bytes, condition: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """One exclusion zone as the wearer sees it, and what they are told of it."""
    geometry = condition["geometry"]
    if geometry["type"] != "Point":
        return geometry, "Keep out of the shaded area."
    lon, lat = geometry["coordinates"][:2]
    seed = (
        f"{condition.get('protected_person_id', '')}:{lat:.5f}:{lon:.5f}:"
        f"{condition.get('radius_m')}"
    )
    radius, buffer = (
        float(condition.get("radius_m") or 0.0),
        float(condition.get("buffer_m") or 0.0),
    )
    shown = wearer_zone_geojson(key, seed, lat, lon, radius, buffer)
    return shown, "Keep out of the whole shaded area at all times."


def wearer_view(key: bytes, conditions: Iterable[dict[str, Any]]) -> list[WearerZone]:
    """What the wearer's leaflet or app shows of their exclusion zones.

    A zone protecting a person is always disguised; a polygon the court drew (a street, a town
    centre) is shown as drawn, because it was drawn to be shown and does not mark one address.
    """
    out = []
    for number, condition in enumerate(conditions, start=1):
        if condition.get("type") != ConditionType.EXCLUSION_ZONE:
            continue
        shown, note = _shown(key, condition)
        label = f"Exclusion zone {number}"
        out.append(WearerZone(label, shown, note))
    return out


def zone_key(settings: Settings) -> bytes:
    """The key that disguises zones for wearers; derived, so it never needs storing."""
    secret = (settings.secret_key or "vigil-development-only").encode()
    # The label predates the module's move; changing it would change every shape already handed out.
    return hmac.new(secret, b"vigil.monitoring.wearer-zone", hashlib.sha256).digest()
