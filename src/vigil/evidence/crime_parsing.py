"""Reading a police crime extract: the national police CSV or a headed CSV of the force's own,
row by row, each bad row named with its field, the good rows kept."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from vigil.evidence.crime_header import Header, read_header
from vigil.evidence.crimes import (
    _BATCH_ID,
    _FORCE_BY_LOWER,
    DEFAULT_MAX_WINDOW,
    MAX_ROWS,
    POLICE_BATCH_COLUMNS,
    POLICE_FORCES,
    Crime,
    CrimeFormat,
    ParseResult,
    _check_window,
    _location,
    _reference,
    _RowErrors,
    crime_type_code,
)


def _police_time(value: str, field_name: str, errors: _RowErrors) -> datetime | None:
    text = value.strip()
    if not text:
        errors.add(field_name, "missing")
        return None
    if not re.fullmatch(r"\d{14}", text):
        errors.add(field_name, f"{text!r} is not yyyyMMddHHmmss")
        return None
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        errors.add(field_name, f"{text!r} is not a real date and time")
        return None


def _batch_id(value: str, force: str | None, errors: _RowErrors) -> str | None:
    text = value.strip()
    match = _BATCH_ID.match(text)
    if not match:
        errors.add("batchId", "must be the force code then yyyyMMdd, optionally -N")
        return None
    try:
        datetime.strptime(match["date"], "%Y%m%d")
    except ValueError:
        errors.add("batchId", f"{match['date']} is not a real date")
        return None
    if force is not None and match["code"].lower() != POLICE_FORCES[force].lower():
        errors.add("batchId", f"must start with {POLICE_FORCES[force]}, the code for {force}")
        return None
    return text


def _check_datum(
    datum: str, location: tuple[float, float, float | None, float | None] | None, errors: _RowErrors
) -> None:
    """The stated datum must be the one the location is written in."""
    if location is None or not datum:
        return
    wgs = location[2] is None
    if datum == "WGS84" and not wgs:
        errors.add("datum", "is WGS84 but the location is an easting/northing")
    elif datum in {"OSGB36", "BNG", "OSGB"} and wgs:
        errors.add("datum", f"is {datum} but the location is a latitude/longitude")
    elif datum not in {"WGS84", "OSGB36", "BNG", "OSGB"}:
        errors.add("datum", f"{datum!r} is not WGS84 or OSGB36")


def _parse_police_row(
    number: int, cells: list[str], max_window: timedelta, seen: set[str], result: ParseResult
) -> None:
    errors = _RowErrors(number, result.errors)
    if len(cells) != len(POLICE_BATCH_COLUMNS):
        errors.add("row", f"has {len(cells)} columns; the police batch format has 13")
        return
    values = dict(zip(POLICE_BATCH_COLUMNS, (cell.strip() for cell in cells), strict=True))
    reference = _reference(values["crimeReference"], "crimeReference", seen, errors)
    force = _FORCE_BY_LOWER.get(values["policeForce"].lower())
    if not values["policeForce"]:
        errors.add("policeForce", "missing")
    elif force is None:
        errors.add("policeForce", f"{values['policeForce']!r} is not a known police force")
    batch_id = _batch_id(values["batchId"], force, errors)
    crime_type = crime_type_code(values["crimeTypeId"])
    if not values["crimeTypeId"]:
        errors.add("crimeTypeId", "missing")
    elif crime_type is None:
        errors.add("crimeTypeId", f"{values['crimeTypeId']!r} is not a known crime type")
    start = _police_time(values["crimeDateTimeFrom"], "crimeDateTimeFrom", errors)
    end = _police_time(values["crimeDateTimeTo"], "crimeDateTimeTo", errors)
    window_ok = _check_window(
        start, end, max_window, ("crimeDateTimeFrom", "crimeDateTimeTo"), errors
    )
    location = _location(
        values["latitude"],
        values["longitude"],
        values["easting"],
        values["northing"],
        ("latitude", "longitude", "easting", "northing"),
        errors,
    )
    _check_datum(values["datum"].upper(), location, errors)
    if errors.count or reference is None or crime_type is None or location is None:
        return
    assert start is not None
    assert end is not None
    assert window_ok
    lat, lon, easting, northing = location
    result.crimes.append(
        Crime(
            row=number,
            reference=reference,
            crime_type=crime_type,
            lat=lat,
            lon=lon,
            window_from=start,
            window_to=end,
            description=values["crimeText"] or values["crimeTypeDescription"],
            easting=easting,
            northing=northing,
            force=force,
            batch_id=batch_id,
        )
    )


_LOCAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


def local_to_utc(naive: datetime, zone: tzinfo, *, earliest: bool) -> datetime:
    """A wall-clock time in ``zone`` as UTC, or ValueError when the clocks skipped it.

    In the autumn hour that happens twice, a window start takes the earlier reading and a window
    end the later one, so the window covers both readings rather than guessing which was meant.
    """
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        a, b = first.astimezone(UTC), second.astimezone(UTC)
        # In a gap the two folds give times that do not read back as the wall clock given.
        if a.astimezone(zone).replace(tzinfo=None) != naive:
            raise ValueError("does not exist in local time (the clocks went forward)")
        return min(a, b) if earliest else max(a, b)
    return first.astimezone(UTC)


def _headed_time(
    value: str, field_name: str, zone: tzinfo, earliest: bool, errors: _RowErrors
) -> datetime | None:
    text = value.strip()
    if not text:
        errors.add(field_name, "missing")
        return None
    if re.search(r"(Z|[+-]\d{2}:?\d{2})$", text):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            errors.add(field_name, f"{text!r} is not a date and time")
            return None
        return parsed.astimezone(UTC)
    naive: datetime | None = None
    candidate = text.replace("T", " ")
    for fmt in _LOCAL_FORMATS:
        try:
            naive = datetime.strptime(candidate, fmt)
            break
        except ValueError:
            continue
    if naive is None:
        errors.add(field_name, f"{text!r} is not YYYY-MM-DD HH:MM (local time)")
        return None
    try:
        return local_to_utc(naive, zone, earliest=earliest)
    except ValueError as exc:
        errors.add(field_name, f"{text} {exc}")
        return None


def _parse_headed(
    rows: list[tuple[int, list[str]]],
    header: Header,
    max_window: timedelta,
    zone: tzinfo,
    result: ParseResult,
) -> None:
    columns = header.columns
    seen: set[str] = set()
    for offset, cells in rows:
        result.rows += 1
        errors = _RowErrors(offset, result.errors)
        if len(cells) != len(columns):
            errors.add("row", f"has {len(cells)} columns; the header has {len(columns)}")
            continue
        values = {name: cell.strip() for name, cell in zip(columns, cells, strict=True) if name}
        reference = _reference(values.get("reference", ""), "reference", seen, errors)
        type_text = values.get("type", "")
        crime_type = crime_type_code(type_text)
        if not type_text:
            errors.add("type", "missing")
        elif crime_type is None:
            errors.add("type", f"{type_text!r} is not a known crime type")
        start = _headed_time(values.get("from", ""), "from", zone, True, errors)
        end = _headed_time(values.get("to", ""), "to", zone, False, errors)
        _check_window(start, end, max_window, ("from", "to"), errors)
        location = _location(
            values.get("lat", ""),
            values.get("lon", ""),
            values.get("easting", ""),
            values.get("northing", ""),
            ("lat", "lon", "easting", "northing"),
            errors,
        )
        if errors.count or reference is None or crime_type is None or location is None:
            continue
        assert start is not None
        assert end is not None
        lat, lon, easting, northing = location
        result.crimes.append(
            Crime(
                row=offset,
                reference=reference,
                crime_type=crime_type,
                lat=lat,
                lon=lon,
                window_from=start,
                window_to=end,
                description=values.get("description", ""),
                easting=easting,
                northing=northing,
            )
        )


def parse_crimes(
    text: str,
    *,
    fmt: CrimeFormat | None = None,
    max_window: timedelta = DEFAULT_MAX_WINDOW,
    timezone: str = "Europe/London",
) -> ParseResult:
    """Parse a batch; good rows become ``crimes``, every bad row its own ``errors``, and a file
    that is in neither format (or empty, or too long) its one ``refusal``."""
    rows = [
        (number, cells)
        for number, cells in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1)
        if any(cell.strip() for cell in cells)
    ]
    if not rows:
        return ParseResult(format=fmt or CrimeFormat.HEADED, refusal="The file has no rows.")
    header = read_header(rows[0][1], fmt)
    result = ParseResult(format=header.format, refusal=header.refusal)
    data = rows[1:] if header.skip_first else rows
    if len(data) > MAX_ROWS:
        result.refusal = f"The file has more than {MAX_ROWS} rows; split it."
    if result.refusal:
        return result
    if header.format is CrimeFormat.HEADED:
        _parse_headed(data, header, max_window, ZoneInfo(timezone), result)
        return result
    seen: set[str] = set()
    for number, cells in data:
        result.rows += 1
        _parse_police_row(number, cells, max_window, seen, result)
    return result
