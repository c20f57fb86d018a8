"""Server-side maps as self-contained SVG: zones, buffers, trails, stay points and scenes.

A local equirectangular projection around the data (accurate to well under a metre at the scale
of a town), a scale bar and a north arrow; street tiles underneath when a tile source is
configured (vigil.evidence.map_streets), a plain background otherwise. SVG renders in the browser
and in WeasyPrint's PDFs alike, so the map a court sees is the map the officer saw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

import numpy as np
from shapely.geometry import Polygon as ShapelyPolygon

from vigil.evidence.map_streets import street_background

EARTH_RADIUS_M = 6_371_008.8
MAX_TRAIL_POINTS = 1_000


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_m: float
    label: str = ""
    kind: str = "exclusion"  # exclusion | buffer | home | scene | stay


@dataclass(frozen=True)
class Polygon:
    rings: Sequence[Sequence[tuple[float, float]]]  # (lon, lat) rings, first is the outline
    label: str = ""
    kind: str = "exclusion"


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    label: str = ""
    accuracy_m: float | None = None
    kind: str = "fix"  # fix | highlight


@dataclass
class MapSpec:
    title: str
    circles: list[Circle] = field(default_factory=list)
    polygons: list[Polygon] = field(default_factory=list)
    trail: list[tuple[float, float]] = field(default_factory=list)  # (lat, lon) in time order
    points: list[Point] = field(default_factory=list)
    width: int = 640
    height: int = 420


_STYLE = {
    "exclusion": 'fill="#d4351c" fill-opacity="0.18" stroke="#d4351c" stroke-width="2"',
    "buffer": 'fill="none" stroke="#f47738" stroke-width="1.5" stroke-dasharray="6 4"',
    "inclusion": 'fill="#00703c" fill-opacity="0.12" stroke="#00703c" stroke-width="2"',
    "home": 'fill="#1d70b8" fill-opacity="0.18" stroke="#1d70b8" stroke-width="2"',
    "scene": 'fill="#912b88" fill-opacity="0.15" stroke="#912b88" stroke-width="2"',
    "stay": 'fill="#ffdd00" fill-opacity="0.6" stroke="#0b0c0c" stroke-width="1"',
}


def _thin(trail: Sequence[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    """Keep at most ``limit`` points, always the first and last (a map is not the evidence)."""
    if len(trail) <= limit:
        return list(trail)
    idx = np.linspace(0, len(trail) - 1, limit).round().astype(int)
    return [trail[i] for i in sorted(set(idx.tolist()))]


class _Projection:
    def __init__(self, spec: MapSpec, margin: float = 24.0) -> None:
        lats: list[float] = []
        lons: list[float] = []
        for c in spec.circles:
            dlat = math.degrees(c.radius_m / EARTH_RADIUS_M)
            dlon = dlat / max(math.cos(math.radians(c.lat)), 1e-6)
            lats += [c.lat - dlat, c.lat + dlat]
            lons += [c.lon - dlon, c.lon + dlon]
        for poly in spec.polygons:
            for ring in poly.rings:
                lons += [p[0] for p in ring]
                lats += [p[1] for p in ring]
        lats += [p[0] for p in spec.trail] + [p.lat for p in spec.points]
        lons += [p[1] for p in spec.trail] + [p.lon for p in spec.points]
        if not lats:
            lats, lons = [51.5], [-0.12]
        self.lat0 = (min(lats) + max(lats)) / 2
        self.lon0 = (min(lons) + max(lons)) / 2
        self.kx = math.cos(math.radians(self.lat0)) * EARTH_RADIUS_M * math.pi / 180
        self.ky = EARTH_RADIUS_M * math.pi / 180
        span_x = max((max(lons) - min(lons)) * self.kx, 100.0)
        span_y = max((max(lats) - min(lats)) * self.ky, 100.0)
        self.scale = min(
            (spec.width - 2 * margin) / span_x, (spec.height - 2 * margin) / span_y
        )  # pixels per metre
        self.cx = spec.width / 2
        self.cy = spec.height / 2

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        x = self.cx + (lon - self.lon0) * self.kx * self.scale
        y = self.cy - (lat - self.lat0) * self.ky * self.scale
        return round(x, 1), round(y, 1)

    def latlon(self, x: float, y: float) -> tuple[float, float]:
        """The point drawn at (x, y): where the street tiles under the map must reach."""
        return (
            self.lat0 + (self.cy - y) / (self.ky * self.scale),
            self.lon0 + (x - self.cx) / (self.kx * self.scale),
        )


def _scale_bar(proj: _Projection, spec: MapSpec) -> str:
    target = (spec.width / 4) / proj.scale
    nice = 10 ** math.floor(math.log10(target))
    for step in (1, 2, 5, 10):
        if nice * step >= target:
            nice *= step
            break
    length = nice * proj.scale
    label = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m"
    y = spec.height - 12
    return (
        f'<line x1="12" y1="{y}" x2="{12 + length:.1f}" y2="{y}" stroke="#0b0c0c" '
        f'stroke-width="3"/><text x="12" y="{y - 6}" font-size="11">{label}</text>'
        f'<text x="{spec.width - 20}" y="20" font-size="13" font-weight="bold">N</text>'
        f'<path d="M{spec.width - 16} 24 l-5 12 h10 z" fill="#0b0c0c"/>'
    )


def render_svg(spec: MapSpec) -> str:
    proj = _Projection(spec)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{spec.width}" height="{spec.height}" '
        f'viewBox="0 0 {spec.width} {spec.height}" role="img" aria-label="{escape(spec.title)}" '
        'font-family="Arial, sans-serif">',
        f'<rect width="{spec.width}" height="{spec.height}" fill="#f8f8f8" stroke="#b1b4b6"/>',
        street_background(proj, spec.width, spec.height),
    ]
    for poly in spec.polygons:
        d = " ".join(
            "M" + " L".join(f"{x},{y}" for x, y in (proj.xy(lat, lon) for lon, lat in ring)) + "Z"
            for ring in poly.rings
        )
        style = _STYLE.get(poly.kind, _STYLE["exclusion"])
        parts.append(f'<path d="{d}" fill-rule="evenodd" {style}/>')
        if poly.label and poly.rings and poly.rings[0]:
            x, y = proj.xy(poly.rings[0][0][1], poly.rings[0][0][0])
            parts.append(f'<text x="{x}" y="{y}" font-size="11">{escape(poly.label)}</text>')
    for circle in spec.circles:
        x, y = proj.xy(circle.lat, circle.lon)
        r = max(circle.radius_m * proj.scale, 2.0)
        style = _STYLE.get(circle.kind, _STYLE["exclusion"])
        parts.append(f'<circle cx="{x}" cy="{y}" r="{r:.1f}" {style}/>')
        if circle.label:
            parts.append(
                f'<text x="{x + 4}" y="{y - r - 4:.1f}" font-size="11">'
                f"{escape(circle.label)}</text>"
            )
    trail = _thin(spec.trail, MAX_TRAIL_POINTS)
    if len(trail) > 1:
        path = " ".join(f"{x},{y}" for x, y in (proj.xy(lat, lon) for lat, lon in trail))
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="#1d70b8" stroke-width="1.5" '
            'stroke-opacity="0.8"/>'
        )
    for point in spec.points:
        x, y = proj.xy(point.lat, point.lon)
        if point.accuracy_m:
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="{max(point.accuracy_m * proj.scale, 1):.1f}" '
                'fill="#1d70b8" fill-opacity="0.1" stroke="#1d70b8" stroke-width="0.5"/>'
            )
        colour = "#d4351c" if point.kind == "highlight" else "#0b0c0c"
        parts.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>')
        if point.label:
            parts.append(
                f'<text x="{x + 5}" y="{y + 4}" font-size="10">{escape(point.label)}</text>'
            )
    parts.append(_scale_bar(proj, spec))
    parts.append("</svg>")
    return "".join(parts)


def zone_shapes(condition: dict[str, object], label: str) -> tuple[list[Circle], list[Polygon]]:
    """Circles/polygons for one plan condition (SCENARIO shape): the zone and its buffer."""
    geometry = condition.get("geometry")
    if not isinstance(geometry, dict):
        return [], []
    kind = {"exclusion_zone": "exclusion", "inclusion_zone": "inclusion", "curfew": "home"}.get(
        str(condition.get("type")), "exclusion"
    )
    circles: list[Circle] = []
    polygons: list[Polygon] = []
    buffer_m = condition.get("buffer_m")
    if geometry.get("type") == "Point":
        lon, lat = geometry["coordinates"][:2]
        radius = float(condition.get("radius_m") or 0.0)  # type: ignore[arg-type]
        circles.append(Circle(float(lat), float(lon), radius, label, kind))
        if isinstance(buffer_m, int | float) and buffer_m > 0:
            circles.append(Circle(float(lat), float(lon), radius + float(buffer_m), "", "buffer"))
    elif geometry.get("type") == "Polygon":
        rings = [[(float(p[0]), float(p[1])) for p in ring] for ring in geometry["coordinates"]]
        polygons.append(Polygon(rings, label, kind))
    elif geometry.get("type") == "MultiPolygon":
        for poly in geometry["coordinates"]:
            rings = [[(float(p[0]), float(p[1])) for p in ring] for ring in poly]
            polygons.append(Polygon(rings, label, kind))
    if isinstance(buffer_m, int | float) and buffer_m > 0:
        polygons += [Polygon([_grown(p.rings[0], float(buffer_m))], "", "buffer") for p in polygons]
    return circles, polygons


def _grown(ring: Sequence[tuple[float, float]], metres: float) -> list[tuple[float, float]]:
    """A polygon's outline grown by its warning buffer, in flat metres round its first corner
    (true to well under a metre at the size of a zone)."""
    lon0, lat0 = ring[0]
    ky = EARTH_RADIUS_M * math.pi / 180
    kx = ky * math.cos(math.radians(lat0))
    flat = ShapelyPolygon([((lon - lon0) * kx, (lat - lat0) * ky) for lon, lat in ring])
    grown = flat.buffer(metres)
    return [(lon0 + x / kx, lat0 + y / ky) for x, y in grown.exterior.coords]
