"""Crime batches for matching: the police forces' batch format and a simple headed CSV.

Pure parsing and validation, no storage. Every bad row gets its own errors (each naming the field
and the reason) while good rows proceed, so one typo never holds back a whole batch.

Two formats:

* **Police batch** (what forces in England and Wales already send): no header, 13 columns
  ``policeForce, crimeTypeId, crimeTypeDescription, batchId, crimeReference, crimeDateTimeFrom,
  crimeDateTimeTo, easting, northing, latitude, longitude, datum, crimeText``; times
  ``yyyyMMddHHmmss`` in UTC; exactly one location pair.
* **Headed CSV**: a header row naming ``reference, type, from, to`` and either ``lat, lon`` or
  ``easting, northing`` (optional ``description``). Times are local (Europe/London unless told
  otherwise) unless they carry an explicit offset, so officers can type what the victim said."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from vigil.geo import bng

MAX_ROWS = 20_000
MAX_REFERENCE_LENGTH = 60
DEFAULT_MAX_WINDOW = timedelta(hours=12)
# Britain and its waters: a location outside is a typo (or swapped columns), not a crime scene.
LAT_RANGE = (49.5, 61.5)
LON_RANGE = (-8.5, 2.6)
EASTING_RANGE = (0.0, 600_000.0)
NORTHING_RANGE = (0.0, 1_300_000.0)
POLICE_BATCH_COLUMNS = (
    "policeForce",
    "crimeTypeId",
    "crimeTypeDescription",
    "batchId",
    "crimeReference",
    "crimeDateTimeFrom",
    "crimeDateTimeTo",
    "easting",
    "northing",
    "latitude",
    "longitude",
    "datum",
    "crimeText",
)


class CrimeFormat(StrEnum):
    POLICE_BATCH = "police_batch"
    HEADED = "headed"


# Crime types: the acquisitive-crime codes the forces' batch format uses, and the data.police.uk
# street-crime categories (so published open data can be matched as well).
CRIME_TYPES: dict[str, str] = {
    "RB": "Robbery",
    "BIAD": "Burglary in a dwelling",
    "AB": "Aggravated burglary",
    "BOTD": "Burglary in a building other than a dwelling",
    "TOMV": "Theft of a vehicle",
    "TFP": "Theft from the person of another",
    "TFMV": "Theft from vehicle",
    "ASB": "Anti-social behaviour",
    "BICYCLE": "Bicycle theft",
    "BURGLARY": "Burglary",
    "CDA": "Criminal damage and arson",
    "DRUGS": "Drugs",
    "OTHER_THEFT": "Other theft",
    "OTHER": "Other crime",
    "WEAPONS": "Possession of weapons",
    "PUBLIC_ORDER": "Public order",
    "SHOPLIFTING": "Shoplifting",
    "VEHICLE": "Vehicle crime",
    "VIOLENCE": "Violence and sexual offences",
}
_TYPE_ALIASES = {"theft from the person": "TFP"}
# Territorial forces of England and Wales plus the British Transport Police: name → batch code.
POLICE_FORCES: dict[str, str] = {
    "Avon and Somerset": "AVS",
    "Bedfordshire": "BFD",
    "British Transport Police": "BTP",
    "Cambridgeshire": "CAM",
    "Cheshire": "CHS",
    "City of London": "CoLP",
    "Cleveland": "CLV",
    "Cumbria": "CMB",
    "Derbyshire": "DBY",
    "Devon and Cornwall": "DVC",
    "Dorset": "DOR",
    "Durham": "DUR",
    "Dyfed-Powys": "DPP",
    "Essex": "ESX",
    "Gloucestershire": "GLC",
    "Greater Manchester": "GMP",
    "Gwent": "GWP",
    "Hampshire": "HAM",
    "Hertfordshire": "HRT",
    "Humberside": "HMB",
    "Kent": "KNT",
    "Lancashire": "LAN",
    "Leicestershire": "LEI",
    "Lincolnshire": "LIN",
    "Merseyside": "MER",
    "Metropolitan": "MPS",
    "Norfolk": "NFK",
    "North Wales": "NWL",
    "North Yorkshire": "NYP",
    "Northamptonshire": "NTH",
    "Northumbria": "NBR",
    "Nottinghamshire": "NOT",
    "South Wales": "SWP",
    "South Yorkshire": "SYP",
    "Staffordshire": "STF",
    "Suffolk": "SFK",
    "Surrey": "SRY",
    "Sussex": "SXP",
    "Thames Valley": "TVP",
    "Warwickshire": "WAR",
    "West Mercia": "WMC",
    "West Midlands": "WMP",
    "West Yorkshire": "WYP",
    "Wiltshire": "WLT",
}
_FORCE_BY_LOWER = {name.lower(): name for name in POLICE_FORCES}
_BATCH_ID = re.compile(r"^(?P<code>[A-Za-z]{2,5})(?P<date>\d{8})(?:-(?P<n>\d{1,3}))?$")


def crime_type_code(value: str) -> str | None:
    """The type's code from a code or a description (any case), or None when unknown."""
    text = value.strip()
    if not text:
        return None
    upper = text.upper()
    if upper in CRIME_TYPES:
        return upper
    lower = text.lower()
    if lower in _TYPE_ALIASES:
        return _TYPE_ALIASES[lower]
    for code, description in CRIME_TYPES.items():
        if description.lower() == lower:
            return code
    return None


def crime_type_name(code: str) -> str:
    """A stored type code as people read it ("BIAD" is "Burglary in a dwelling")."""
    return CRIME_TYPES.get(code, code)


@dataclass(frozen=True)
class RowError:
    """One problem with one row; ``row`` is the 1-based line number in the uploaded file."""

    row: int
    field: str
    reason: str
    reference: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "reason": self.reason, "ref": self.reference}


@dataclass(frozen=True)
class Crime:
    """A validated crime scene: WGS84 position and a UTC time window."""

    row: int
    reference: str
    crime_type: str
    lat: float
    lon: float
    window_from: datetime
    window_to: datetime
    description: str = ""
    easting: float | None = None
    northing: float | None = None
    force: str | None = None
    batch_id: str | None = None


@dataclass
class ParseResult:
    format: CrimeFormat
    crimes: list[Crime] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    # Why the whole file was refused (columns of another format, empty, too long); no rows read.
    refusal: str | None = None

    @property
    def failed_rows(self) -> int:
        return len({error.row for error in self.errors})


class _RowErrors:
    def __init__(self, row: int, sink: list[RowError]) -> None:
        self.row = row
        self.sink = sink
        self.reference: str | None = None
        self.count = 0

    def add(self, field_name: str, reason: str) -> None:
        self.sink.append(RowError(self.row, field_name, reason, self.reference))
        self.count += 1


def _number(value: str, field_name: str, errors: _RowErrors) -> float | None:
    try:
        number = float(value)
    except ValueError:
        errors.add(field_name, f"{value!r} is not a number")
        return None
    if not math.isfinite(number):
        errors.add(field_name, "must be a finite number")
        return None
    return number


def _check_range(
    value: float | None, bounds: tuple[float, float], field_name: str, errors: _RowErrors
) -> float | None:
    if value is None:
        return None
    low, high = bounds
    if not low <= value <= high:
        errors.add(field_name, f"{value:g} is outside {low:g}..{high:g}")
        return None
    return value


def _location(
    lat_text: str,
    lon_text: str,
    east_text: str,
    north_text: str,
    names: tuple[str, str, str, str],
    errors: _RowErrors,
) -> tuple[float, float, float | None, float | None] | None:
    """Exactly one of (lat, lon) or (easting, northing); returns (lat, lon, easting, northing)."""
    lat_name, lon_name, east_name, north_name = names
    has_wgs = bool(lat_text or lon_text)
    has_bng = bool(east_text or north_text)
    if has_wgs and has_bng:
        errors.add("location", "give latitude/longitude or easting/northing, not both")
        return None
    if not has_wgs and not has_bng:
        errors.add("location", "missing: give latitude/longitude or easting/northing")
        return None
    if has_wgs:
        if not lat_text:
            errors.add(lat_name, "missing (longitude was given)")
        if not lon_text:
            errors.add(lon_name, "missing (latitude was given)")
        if not (lat_text and lon_text):
            return None
        lat = _check_range(_number(lat_text, lat_name, errors), LAT_RANGE, lat_name, errors)
        lon = _check_range(_number(lon_text, lon_name, errors), LON_RANGE, lon_name, errors)
        if lat is None or lon is None:
            return None
        return lat, lon, None, None
    if not east_text:
        errors.add(east_name, "missing (northing was given)")
    if not north_text:
        errors.add(north_name, "missing (easting was given)")
    if not (east_text and north_text):
        return None
    east = _check_range(_number(east_text, east_name, errors), EASTING_RANGE, east_name, errors)
    north = _check_range(
        _number(north_text, north_name, errors), NORTHING_RANGE, north_name, errors
    )
    if east is None or north is None:
        return None
    lat, lon = bng.bng_to_wgs84(east, north)
    return lat, lon, east, north


def _check_window(
    start: datetime | None,
    end: datetime | None,
    max_window: timedelta,
    names: tuple[str, str],
    errors: _RowErrors,
) -> bool:
    if start is None or end is None:
        return False
    if end < start:
        errors.add(names[1], f"is before {names[0]} (from after to)")
        return False
    if end - start > max_window:
        hours = (end - start).total_seconds() / 3600
        limit = max_window.total_seconds() / 3600
        errors.add(names[1], f"window of {hours:.1f} hours is too long (at most {limit:g} hours)")
        return False
    return True


def _reference(value: str, field_name: str, seen: set[str], errors: _RowErrors) -> str | None:
    reference = value.strip()
    errors.reference = reference or None
    if not reference:
        errors.add(field_name, "missing")
        return None
    if len(reference) > MAX_REFERENCE_LENGTH:
        errors.add(field_name, f"longer than {MAX_REFERENCE_LENGTH} characters")
        return None
    if reference in seen:
        errors.add(field_name, f"{reference} appears more than once in this batch")
        return None
    seen.add(reference)
    return reference
