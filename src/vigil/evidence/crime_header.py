"""Which crime format a file is in, read from its first row, or one clear reason why it is neither.

A file whose columns are not one of the two formats is refused whole, naming the columns expected,
the ones missing and the ones not recognised: reading it row by row would only say that every row
is wrong ("0 of 629 rows kept"), which tells the officer nothing about what to send instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vigil.evidence.crimes import _FORCE_BY_LOWER, POLICE_BATCH_COLUMNS, CrimeFormat

HEADER_ALIASES = {
    "reference": "reference",
    "ref": "reference",
    "crime_reference": "reference",
    "crime reference": "reference",
    "type": "type",
    "crime_type": "type",
    "crime type": "type",
    "from": "from",
    "window_from": "from",
    "to": "to",
    "window_to": "to",
    "lat": "lat",
    "latitude": "lat",
    "lon": "lon",
    "lng": "lon",
    "longitude": "lon",
    "easting": "easting",
    "northing": "northing",
    "description": "description",
}
HEADED_REQUIRED = ("reference", "type", "from", "to")
EXPECTED = (
    "a header naming reference, type, from, to and lat, lon (or easting, northing), "
    "optionally description; or the forces' 13-column police batch file, which has no header"
)
# The columns of data.police.uk's street-level crime download, which officers may send by mistake.
_OPEN_DATA_COLUMNS = {"crime id", "month", "reported by", "falls within", "lsoa code"}
_OPEN_DATA_HINT = (
    " This looks like a data.police.uk street-level crime download: it gives only the month and "
    "an anonymised 'on or near' location, so it cannot place anyone at a scene. Ask the force "
    "for the crimes' references, times and exact locations."
)
_POLICE_TIME = re.compile(r"\d{14}")


@dataclass(frozen=True)
class Header:
    """How to read a file: its format, the headed columns' names (one per column, "" for none),
    whether the first row is a header to skip, or why the file is refused."""

    format: CrimeFormat
    columns: tuple[str, ...] = ()
    skip_first: bool = False
    refusal: str | None = None


def _is_police_row(cells: list[str]) -> bool:
    """A police batch row, not a header: it names a force or carries a yyyyMMddHHmmss time."""
    first = cells[0].strip().lower() if cells else ""
    return first in _FORCE_BY_LOWER or any(_POLICE_TIME.fullmatch(c.strip()) for c in cells)


def _is_police_header(cells: list[str]) -> bool:
    names = [c.strip().lower() for c in cells]
    return names == [c.lower() for c in POLICE_BATCH_COLUMNS]


def read_header(first: list[str], chosen: CrimeFormat | None) -> Header:
    """The format of a file whose first non-blank row is ``first`` (``chosen`` when the caller
    named one), or a refusal naming what was expected and what was found."""
    if chosen is CrimeFormat.POLICE_BATCH or (chosen is None and _is_police_row(first)):
        return Header(CrimeFormat.POLICE_BATCH, skip_first=_is_police_header(first))
    if chosen is None and _is_police_header(first):
        return Header(CrimeFormat.POLICE_BATCH, skip_first=True)
    return _headed(first)


def _headed(first: list[str]) -> Header:
    cells = [c.strip() for c in first]
    columns = tuple(HEADER_ALIASES.get(c.lower(), "") for c in cells)
    problems = []
    missing = [name for name in HEADED_REQUIRED if name not in columns]
    if missing:
        problems.append("missing " + ", ".join(missing))
    if not ({"lat", "lon"} <= set(columns) or {"easting", "northing"} <= set(columns)):
        problems.append("no lat, lon or easting, northing columns")
    unknown = [c or f"(blank column {i})" for i, c in enumerate(cells, 1) if not columns[i - 1]]
    if unknown:
        problems.append("not recognised: " + ", ".join(unknown))
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        problems.append("given twice: " + ", ".join(repeated))
    if not problems:
        return Header(CrimeFormat.HEADED, columns=columns, skip_first=True)
    refusal = (
        f"The file's columns are not a crime batch Vigil can read ({'; '.join(problems)}). "
        f"Expected {EXPECTED}."
    )
    if {c.lower() for c in cells} >= _OPEN_DATA_COLUMNS:
        refusal += _OPEN_DATA_HINT
    return Header(CrimeFormat.HEADED, columns=columns, refusal=refusal)
