"""Exports of trails and crime matches: GeoJSON, GPX, KML and CSV. Pure functions over plain rows.

CSV cells that a spreadsheet would run as a formula (starting with ``= + - @``, or a tab or
carriage return) are neutralised with a leading apostrophe: exported data must never execute.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from vigil.evidence.crime_records import MatchRecord

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will show, never evaluate. Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


@dataclass(frozen=True)
class TrailPoint:
    fix_id: int
    time: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None
    device_id: str = ""


TRAIL_FORMATS = ("geojson", "gpx", "kml", "csv")
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "gpx": "application/gpx+xml",
    "kml": "application/vnd.google-earth.kml+xml",
    "csv": "text/csv; charset=utf-8",
}


def trail_geojson(person_id: str, points: Sequence[TrailPoint]) -> str:
    features: list[dict[str, Any]] = []
    if len(points) > 1:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[p.lon, p.lat] for p in points],
                },
                "properties": {"person_id": person_id, "kind": "trail"},
            }
        )
    for p in points:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                "properties": {
                    "fix_id": p.fix_id,
                    "time": p.time.isoformat(),
                    "accuracy_m": p.accuracy_m,
                    "device_id": p.device_id,
                },
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))


def trail_gpx(person_id: str, points: Sequence[TrailPoint]) -> str:
    rows = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gpx version="1.1" creator="Vigil" xmlns="http://www.topografix.com/GPX/1/1">',
        f"<trk><name>{escape(person_id)}</name><trkseg>",
    ]
    for p in points:
        accuracy = f"<hdop>{p.accuracy_m:g}</hdop>" if p.accuracy_m is not None else ""
        rows.append(
            f'<trkpt lat="{p.lat:.7f}" lon="{p.lon:.7f}"><time>'
            f"{p.time.strftime('%Y-%m-%dT%H:%M:%SZ')}</time>{accuracy}"
            f"<name>{p.fix_id}</name></trkpt>"
        )
    rows.append("</trkseg></trk></gpx>")
    return "\n".join(rows)


def trail_kml(person_id: str, points: Sequence[TrailPoint]) -> str:
    coords = " ".join(f"{p.lon:.7f},{p.lat:.7f}" for p in points)
    marks = "".join(
        f"<Placemark><name>{p.fix_id}</name><TimeStamp><when>"
        f"{p.time.strftime('%Y-%m-%dT%H:%M:%SZ')}</when></TimeStamp>"
        f"<Point><coordinates>{p.lon:.7f},{p.lat:.7f}</coordinates></Point></Placemark>"
        for p in points
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<name>{escape(person_id)}</name>"
        f"<Placemark><name>trail</name><LineString><coordinates>{coords}</coordinates>"
        f"</LineString></Placemark>{marks}</Document></kml>"
    )


def trail_csv(person_id: str, points: Sequence[TrailPoint]) -> str:
    return write_csv(
        ["person_id", "fix_id", "time_utc", "lat", "lon", "accuracy_m", "device_id"],
        ([person_id, p.fix_id, p.time, p.lat, p.lon, p.accuracy_m, p.device_id] for p in points),
    )


def export_trail(fmt: str, person_id: str, points: Sequence[TrailPoint]) -> str:
    writers = {"geojson": trail_geojson, "gpx": trail_gpx, "kml": trail_kml, "csv": trail_csv}
    if fmt not in writers:
        from vigil.errors import ValidationError

        raise ValidationError("format", f"must be one of {', '.join(TRAIL_FORMATS)}")
    return writers[fmt](person_id, points)


# The crime type by name (its code beside it for machines), the wearer by name and CRN, and the
# confidence with its reasons in words: what a reviewer read is what leaves the system.
MATCH_COLUMNS = (
    "crime_reference",
    "crime_type",
    "crime_type_code",
    "window_from_utc",
    "window_to_utc",
    "crime_lat",
    "crime_lon",
    "person_name",
    "person_crn",
    "person_id",
    "closest_distance_m",
    "closest_time_utc",
    "closest_fix_id",
    "fixes_within",
    "confidence",
    "label",
    "confidence_reasons",
    "status",
    "reviewed_by",
    "review_note",
)


def matches_csv(rows: Iterable[MatchRecord]) -> str:
    return write_csv(MATCH_COLUMNS, ([row.get(c) for c in MATCH_COLUMNS] for row in rows))


def matches_geojson(rows: Iterable[MatchRecord]) -> str:
    features = []
    for row in rows:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row["crime_lon"], row["crime_lat"]]},
                "properties": {
                    k: row.get(k) for k in MATCH_COLUMNS if k not in ("crime_lat", "crime_lon")
                },
            }
        )
        for fix in row.get("fixes", []):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [fix["lon"], fix["lat"]]},
                    "properties": {
                        "crime_reference": row["crime_reference"],
                        "person_id": row["person_id"],
                        **fix,
                    },
                }
            )
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, separators=(",", ":"), default=str
    )


def matches_kml(rows: Iterable[MatchRecord]) -> str:
    marks = []
    for row in rows:
        marks.append(
            f"<Placemark><name>{escape(str(row['crime_reference']))}</name>"
            f"<description>{escape(str(row.get('person_name', row['person_id'])))}, "
            f"{escape(str(row['crime_type']))}; closest "
            f"{row['closest_distance_m']:.0f} m</description>"
            f"<Point><coordinates>{row['crime_lon']:.7f},{row['crime_lat']:.7f}</coordinates>"
            "</Point></Placemark>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document>{''.join(marks)}</Document></kml>"
    )


def matches_gpx(rows: Iterable[MatchRecord]) -> str:
    points = []
    for row in rows:
        points.append(
            f'<wpt lat="{row["crime_lat"]:.7f}" lon="{row["crime_lon"]:.7f}">'
            f"<name>{escape(str(row['crime_reference']))}</name>"
            f"<desc>{escape(str(row.get('person_name', row['person_id'])))}, "
            f"{escape(str(row['crime_type']))}</desc></wpt>"
        )
        for fix in row.get("fixes", []):
            points.append(
                f'<wpt lat="{fix["lat"]:.7f}" lon="{fix["lon"]:.7f}"><time>{fix["time"]}</time>'
                f"<name>{fix['fix_id']}</name></wpt>"
            )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<gpx version="1.1" creator="Vigil" xmlns="http://www.topografix.com/GPX/1/1">'
        + "".join(points)
        + "</gpx>"
    )


def export_matches(fmt: str, rows: Sequence[MatchRecord]) -> str:
    writers = {
        "csv": matches_csv,
        "geojson": matches_geojson,
        "kml": matches_kml,
        "gpx": matches_gpx,
    }
    if fmt not in writers:
        from vigil.errors import ValidationError

        raise ValidationError("format", f"must be one of {', '.join(writers)}")
    return writers[fmt](rows)
