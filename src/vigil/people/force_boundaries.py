"""Where each police force's area lies, so a police user's crimes can be checked against it.

An administrator loads the boundaries from the ONS "Police Force Areas" file (GeoJSON in WGS84,
one feature per force, named in ``PFA23NM`` or a later year's equivalent): each feature whose
name is one of Vigil's force areas is kept; the rest (forces outside the pilot) are counted and
skipped. A crime counts as inside its force area within ``BORDER_TOLERANCE_M`` of the boundary,
because published crime positions are moved to the nearest of a set of anonymous map points,
which near a border can fall just across it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import shape
from sqlalchemy import delete, insert, select

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.geo import bng
from vigil.people.model import FORCE_AREAS, ForceArea
from vigil.people.tables import force_area_boundaries
from vigil.security import audit

BORDER_TOLERANCE_M = 1000.0
MAX_FILE_BYTES = 200 * 1024 * 1024
# Great Britain and its waters, with room: a boundary outside is in the wrong coordinates.
_LON_RANGE, _LAT_RANGE = (-9.0, 3.0), (49.0, 61.0)
_NAME_NOISE = re.compile(r"\b(police|constabulary|service)\b|[^a-z ]")


@dataclass(frozen=True)
class LoadReport:
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _plain(name: str) -> str:
    return " ".join(_NAME_NOISE.sub(" ", name.casefold().replace("&", " and ")).split())


# The ONS file writes the City's name the way gazetteers sort it.
_ONS_ALIASES = {"london city of": "city of london"}


def force_named(name: str) -> ForceArea | None:
    """The ONS name ("West Midlands") of one of Vigil's force areas ("West Midlands Police")."""
    wanted = _ONS_ALIASES.get(_plain(name), _plain(name))
    return next((f for f in FORCE_AREAS if _plain(f.name) == wanted), None)


def _checked_geometry(raw: Any, name: str) -> Any:
    try:
        geometry = shape(raw)
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.ShapelyError) as exc:
        raise ValidationError("file", f"{name}: not a GeoJSON geometry ({exc})") from exc
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
        raise ValidationError("file", f"{name}: a force area must be a polygon")
    lon_min, lat_min, lon_max, lat_max = geometry.bounds
    inside = _LON_RANGE[0] <= lon_min <= lon_max <= _LON_RANGE[1]
    if not (inside and _LAT_RANGE[0] <= lat_min <= lat_max <= _LAT_RANGE[1]):
        raise ValidationError("file", f"{name}: not WGS84 longitude and latitude in Britain")
    return geometry if geometry.is_valid else shapely.make_valid(geometry)


def _features(content: bytes) -> list[Any]:
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError("file", "must be at most 200 MB")
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("file", f"not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValidationError("file", "must be a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise ValidationError("file", "has no list of features")
    return features


def load(
    uow: UnitOfWork, content: bytes, *, source: str, name_property: str, actor: str
) -> LoadReport:
    """Replace the boundaries of the forces the file names; all of them or none."""
    report = LoadReport()
    rows = []
    for index, feature in enumerate(_features(content)):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        name = (properties or {}).get(name_property)
        if not isinstance(name, str):
            raise ValidationError("file", f"feature {index} has no {name_property!r} name")
        force = force_named(name)
        if force is None:
            report.skipped.append(name)
            continue
        geometry = _checked_geometry(feature.get("geometry"), name)
        rows.append({"force_area": force.code, "geojson": json.dumps(geometry.__geo_interface__)})
        report.loaded.append(force.code)
    now = uow.clock.now()
    conn = uow.connection
    for row in rows:
        conn.execute(
            delete(force_area_boundaries).where(
                force_area_boundaries.c.force_area == row["force_area"]
            )
        )
        conn.execute(insert(force_area_boundaries).values(**row, source=source, loaded_at=now))
    audit.record(
        conn,
        at=now,
        actor=actor,
        action="force_boundaries.load",
        subject_type="force_area",
        subject_id=None,
        detail={"source": source, "loaded": report.loaded, "skipped": len(report.skipped)},
    )
    return report


class Boundary:
    """One force area, in metres, widened by the border tolerance."""

    def __init__(self, force: str, geometry: Any) -> None:
        self.force = force
        # British National Grid: metres across England and Wales, where every force area lies.
        grid = shapely.transform(
            geometry, lambda lons, lats: bng.wgs84_to_bng_many(lats, lons), interleaved=False
        )
        self._area = grid.buffer(BORDER_TOLERANCE_M)
        shapely.prepare(self._area)

    def holds(self, lat: float, lon: float) -> bool:
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return False
        return bool(self._area.contains(shapely.Point(*bng.wgs84_to_bng(lat, lon))))


def boundary_of(uow: UnitOfWork, force_area: str | None) -> Boundary | None:
    """The force area's boundary, or None when none has been loaded for it."""
    if not force_area:
        return None
    stored = uow.connection.execute(
        select(force_area_boundaries.c.geojson).where(
            force_area_boundaries.c.force_area == force_area
        )
    ).scalar()
    return Boundary(force_area, shape(json.loads(stored))) if stored else None
