"""Zone geometry from GeoJSON: parse, check it is well formed and of a sane size, report by field.

A zone is a GeoJSON ``Point`` with a radius in metres (a circle) or a ``Polygon`` /
``MultiPolygon`` (holes allowed). Coordinates are WGS84 ``[longitude, latitude]``. Sizes are
measured on the ellipsoid so a limit means the same thing in Penzance and in Berwick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pyproj import Geod
from shapely.geometry import shape
from shapely.validation import explain_validity

from vigil.errors import ErrorCollector

_GEOD = Geod(ellps="WGS84")

# A circle smaller than typical GPS accuracy cannot be enforced; one wider than a city is not a
# zone around a place any more. Polygons get the same limits on their extent and area.
MIN_RADIUS_M = 10.0
MAX_RADIUS_M = 20_000.0
MAX_BUFFER_M = 5_000.0
MIN_AREA_M2 = 100.0
MAX_AREA_M2 = 1_500_000_000.0  # 1,500 km²: larger than a metropolitan county is not a zone
MAX_EXTENT_M = 100_000.0
MAX_VERTICES = 5_000
ZONE_TYPES = ("Point", "Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Zone:
    """A validated zone: the GeoJSON as given (normalised to floats) and its radius if a circle."""

    geometry: dict[str, Any]
    radius_m: float | None
    area_m2: float

    @property
    def is_circle(self) -> bool:
        return bool(self.geometry["type"] == "Point")


def _position(value: Any, field: str, errors: ErrorCollector) -> list[float] | None:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        errors.add(field, "a position must be [longitude, latitude]")
        return None
    try:
        lon, lat = float(value[0]), float(value[1])
    except (TypeError, ValueError):
        errors.add(field, "longitude and latitude must be numbers")
        return None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        errors.add(field, "longitude and latitude must be finite numbers")
        return None
    if not -180.0 <= lon <= 180.0:
        errors.add(field, f"longitude {lon} is outside -180..180")
        return None
    if not -90.0 <= lat <= 90.0:
        errors.add(
            field, f"latitude {lat} is outside -90..90 (is the order [longitude, latitude]?)"
        )
        return None
    return [lon, lat]


def _ring(value: Any, field: str, errors: ErrorCollector) -> list[list[float]] | None:
    if not isinstance(value, list) or len(value) < 4:
        errors.add(field, "a ring needs at least 4 positions (the first repeated at the end)")
        return None
    ring = []
    for index, raw in enumerate(value):
        position = _position(raw, f"{field}[{index}]", errors)
        if position is None:
            return None
        ring.append(position)
    if ring[0] != ring[-1]:
        errors.add(field, "a ring must be closed: its last position must equal its first")
        return None
    return ring


def _polygon(value: Any, field: str, errors: ErrorCollector) -> list[list[list[float]]] | None:
    if not isinstance(value, list) or not value:
        errors.add(field, "a polygon needs an outer ring")
        return None
    rings = []
    for index, raw in enumerate(value):
        ring = _ring(raw, f"{field}[{index}]", errors)
        if ring is None:
            return None
        rings.append(ring)
    return rings


def _measure(geometry: dict[str, Any]) -> tuple[float, float]:
    """Geodesic area (m²) and the longest side of the bounding box (m)."""
    geom = shape(geometry)
    area = abs(_GEOD.geometry_area_perimeter(geom)[0])
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    mid_lat = (min_lat + max_lat) / 2
    mid_lon = (min_lon + max_lon) / 2
    width = _GEOD.inv(min_lon, mid_lat, max_lon, mid_lat)[2]
    height = _GEOD.inv(mid_lon, min_lat, mid_lon, max_lat)[2]
    return area, max(width, height)


def parse_zone(
    geometry: Any,
    radius_m: Any,
    errors: ErrorCollector,
    *,
    field: str = "geometry",
    radius_field: str = "radius_m",
) -> Zone | None:
    """Validate a zone, adding every problem to ``errors``; return it only when it is sound."""
    if not isinstance(geometry, dict):
        errors.add(field, "must be a GeoJSON object with 'type' and 'coordinates'")
        return None
    kind = geometry.get("type")
    if kind not in ZONE_TYPES:
        errors.add(f"{field}.type", f"must be one of {', '.join(ZONE_TYPES)}, not {kind!r}")
        return None
    coordinates = geometry.get("coordinates")
    if kind == "Point":
        return _circle_zone(coordinates, radius_m, field, radius_field, errors)
    before = len(errors.errors)
    if radius_m is not None:
        errors.add(radius_field, "only a Point zone has a radius; a polygon has its own edge")
    normalised = _polygon_coordinates(kind, coordinates, field, errors)
    if normalised is None or len(errors.errors) > before:
        return None
    return _sound_polygon_zone({"type": kind, "coordinates": normalised}, field, errors)


def _circle_zone(
    coordinates: Any, radius_m: Any, field: str, radius_field: str, errors: ErrorCollector
) -> Zone | None:
    position = _position(coordinates, f"{field}.coordinates", errors)
    radius = _radius(radius_m, radius_field, errors, required=True)
    if position is None or radius is None:
        return None
    return Zone({"type": "Point", "coordinates": position}, radius, math.pi * radius * radius)


def _polygon_coordinates(kind: str, coordinates: Any, field: str, errors: ErrorCollector) -> Any:
    """A Polygon's or MultiPolygon's rings, cleaned; None when any part is unsound."""
    if kind == "Polygon":
        return _polygon(coordinates, f"{field}.coordinates", errors)
    if not isinstance(coordinates, list) or not coordinates:
        errors.add(f"{field}.coordinates", "a MultiPolygon needs at least one polygon")
        return None
    parts = [
        _polygon(raw, f"{field}.coordinates[{index}]", errors)
        for index, raw in enumerate(coordinates)
    ]
    return None if any(part is None for part in parts) else parts


def _sound_polygon_zone(clean: dict[str, Any], field: str, errors: ErrorCollector) -> Zone | None:
    """The zone if it is few enough positions, a valid shape, and neither too small nor too big."""
    vertices = sum(len(ring) for ring in _rings(clean))
    if vertices > MAX_VERTICES:
        errors.add(f"{field}.coordinates", f"has {vertices} positions; at most {MAX_VERTICES}")
        return None
    geom = shape(clean)
    if not geom.is_valid:
        errors.add(field, f"is not a valid shape: {explain_validity(geom)}")
        return None
    area, extent = _measure(clean)
    if area < MIN_AREA_M2:
        errors.add(field, f"encloses {area:.0f} m²; a zone must enclose at least {MIN_AREA_M2:.0f}")
        return None
    if area > MAX_AREA_M2 or extent > MAX_EXTENT_M:
        errors.add(
            field,
            f"is too large ({area / 1e6:.0f} km², {extent / 1000:.0f} km across); at most "
            f"{MAX_AREA_M2 / 1e6:.0f} km² and {MAX_EXTENT_M / 1000:.0f} km across",
        )
        return None
    return Zone(clean, None, area)


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def _radius(value: Any, field: str, errors: ErrorCollector, *, required: bool) -> float | None:
    if value is None:
        if required:
            errors.add(field, "a Point zone needs a radius in metres")
        return None
    try:
        radius = float(value)
    except (TypeError, ValueError):
        errors.add(field, "must be a number of metres")
        return None
    if not math.isfinite(radius) or not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
        errors.add(field, f"must be between {MIN_RADIUS_M:.0f} and {MAX_RADIUS_M:.0f} metres")
        return None
    return radius


def parse_buffer(value: Any, errors: ErrorCollector, *, field: str = "buffer_m") -> float | None:
    """A warning buffer around a zone: none, or 0 to MAX_BUFFER_M metres."""
    if value is None:
        return None
    try:
        buffer = float(value)
    except (TypeError, ValueError):
        errors.add(field, "must be a number of metres")
        return None
    if not math.isfinite(buffer) or not 0.0 <= buffer <= MAX_BUFFER_M:
        errors.add(field, f"must be between 0 and {MAX_BUFFER_M:.0f} metres")
        return None
    return buffer
