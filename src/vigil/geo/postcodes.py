"""Postcode geocoding from the ONS Postcode Directory (ONSPD), loaded by an administrator.

Officers place an exclusion zone by typing the protected person's postcode; the zone starts at
the postcode's ONSPD centroid and is then adjusted on the map. The directory's quirks are handled
here, once:

* ``pcd7``/``pcd8``/``pcds`` spell the same postcode with different spacing; we key on the
  postcode without spaces and show the ``pcds`` form (one space before the inward code).
* ``doterm`` (``YYYYMM``) marks a terminated postcode. It is kept (an old address may still name
  it) but refused for placing a zone: the centroid of a postcode that no longer exists is not
  where anybody lives now.
* Postcodes without a grid reference (Channel Islands, Isle of Man, some new ones) carry the
  placeholder latitude ``99.999999`` and longitude ``0``; they are stored without coordinates.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Date, Float, String, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from vigil.db.metadata import UtcDateTime, metadata
from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.security import audit
from vigil.text import ascii_digits

postcodes = Table(
    "postcodes",
    metadata,
    Column("postcode", String(8), primary_key=True),  # upper case, no spaces: "SE12DL"
    Column("display", String(8), nullable=False),  # "SE1 2DL"
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("introduced_on", Date, nullable=True),
    Column("terminated_on", Date, nullable=True),
    Column("police_force", String(12), nullable=True),
    Column("loaded_at", UtcDateTime(timezone=True), nullable=False),
)

# The outward code, then a digit and two letters: the shape of every UK postcode (plus GIR 0AA).
POSTCODE_RE = re.compile(r"^(GIR0AA|[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2})$")
PLACEHOLDER_LAT = 99.999999
REQUIRED_COLUMNS = ("lat", "long", "doterm")
BATCH = 2000


def normalise(raw: str) -> str:
    return re.sub(r"\s+", "", raw or "").upper()


def display_form(key: str) -> str:
    return f"{key[:-3]} {key[-3:]}"


def is_postcode(raw: str) -> bool:
    return bool(POSTCODE_RE.match(normalise(raw)))


@dataclass(frozen=True)
class PostcodeRecord:
    postcode: str
    display: str
    lat: float | None
    lon: float | None
    introduced_on: date | None
    terminated_on: date | None
    police_force: str | None

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class LoadReport:
    rows: int
    loaded: int
    terminated: int
    without_coordinates: int
    rejected: list[tuple[int, str]]  # (line number, reason)


def _month(raw: str) -> date | None:
    raw = (raw or "").strip()
    if len(raw) != 6 or not ascii_digits(raw) or not 1 <= int(raw[4:]) <= 12:
        return None
    return date(int(raw[:4]), int(raw[4:]), 1)


def parse_row(row: dict[str, str]) -> PostcodeRecord:
    """One ONSPD row; raises ValueError naming what is wrong with it."""
    spelled = row.get("pcds") or row.get("pcd7") or row.get("pcd8") or row.get("pcd") or ""
    key = normalise(spelled)
    if not POSTCODE_RE.match(key):
        raise ValueError(f"postcode {spelled!r} is not a UK postcode")
    try:
        lat, lon = float(row["lat"]), float(row["long"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{key}: lat/long are not numbers") from exc
    if lat >= PLACEHOLDER_LAT - 1e-6 or (lat == 0.0 and lon == 0.0):
        coords: tuple[float | None, float | None] = (None, None)
    elif not (49.0 <= lat <= 61.5 and -9.0 <= lon <= 2.5):
        raise ValueError(f"{key}: lat {lat}, long {lon} is outside the United Kingdom")
    else:
        coords = (lat, lon)
    doterm = (row.get("doterm") or "").strip()
    terminated = _month(doterm)
    if doterm and terminated is None:
        raise ValueError(f"{key}: doterm {doterm!r} is not YYYYMM")
    force = (row.get("pfa") or "").strip() or None
    return PostcodeRecord(
        postcode=key,
        display=display_form(key),
        lat=coords[0],
        lon=coords[1],
        introduced_on=_month(row.get("dointr", "")),
        terminated_on=terminated,
        police_force=force,
    )


def read_onspd(lines: Iterable[str]) -> Iterator[tuple[int, PostcodeRecord | str]]:
    """(line number, record or the reason the row was refused) for each data row."""
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if not any(name in header for name in ("pcds", "pcd7", "pcd8", "pcd")):
        missing.insert(0, "pcds")
    if missing:
        raise ValidationError("file", f"not an ONSPD file: missing column(s) {', '.join(missing)}")
    for number, row in enumerate(reader, start=2):
        try:
            yield number, parse_row(row)
        except ValueError as exc:
            yield number, str(exc)


def _upsert(uow: UnitOfWork, values: list[dict[str, Any]]) -> None:
    if not values:
        return
    dialect = postgresql if uow.dialect == "postgresql" else sqlite
    statement = dialect.insert(postcodes)
    updates = {c.name: statement.excluded[c.name] for c in postcodes.c if c.name != "postcode"}
    # One statement executed for many rows: compiled once, not once per row or per batch.
    uow.connection.execute(
        statement.on_conflict_do_update(index_elements=["postcode"], set_=updates), values
    )


def load(uow: UnitOfWork, path: Path, actor: str) -> LoadReport:
    """Load (or refresh) postcodes from an ONSPD CSV; rows already loaded are updated.

    Rows that cannot be read are reported by line and skipped; the rest load in one transaction.
    """
    now = uow.clock.now()
    rows = loaded = terminated = without = 0
    rejected: list[tuple[int, str]] = []
    pending: dict[str, dict[str, Any]] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, found in read_onspd(handle):
            rows += 1
            if isinstance(found, str):
                rejected.append((number, found))
                continue
            loaded += 1
            terminated += found.terminated_on is not None
            without += not found.has_coordinates
            pending[found.postcode] = {
                "postcode": found.postcode,
                "display": found.display,
                "lat": found.lat,
                "lon": found.lon,
                "introduced_on": found.introduced_on,
                "terminated_on": found.terminated_on,
                "police_force": found.police_force,
                "loaded_at": now,
            }
            if len(pending) >= BATCH:
                _upsert(uow, list(pending.values()))
                pending.clear()
    _upsert(uow, list(pending.values()))
    audit.record(
        uow.connection,
        at=now,
        actor=actor,
        action="postcodes.load",
        subject_type="postcodes",
        subject_id=path.name,
        detail={"rows": rows, "loaded": loaded, "rejected": len(rejected)},
    )
    return LoadReport(rows, loaded, terminated, without, rejected)


def _record(row: Any) -> PostcodeRecord:
    return PostcodeRecord(
        postcode=row.postcode,
        display=row.display,
        lat=row.lat,
        lon=row.lon,
        introduced_on=row.introduced_on,
        terminated_on=row.terminated_on,
        police_force=row.police_force,
    )


def find(uow: UnitOfWork, raw: str) -> PostcodeRecord | None:
    row = uow.connection.execute(
        select(postcodes).where(postcodes.c.postcode == normalise(raw))
    ).first()
    return None if row is None else _record(row)


def geocode(uow: UnitOfWork, raw: str, field: str = "postcode") -> PostcodeRecord:
    """A live postcode with coordinates, or a ValidationError saying why it cannot place a zone."""
    key = normalise(raw)
    if not key:
        raise ValidationError(field, "Enter a postcode")
    if not POSTCODE_RE.match(key):
        raise ValidationError(field, "Enter a real postcode, like SE1 2DL")
    found = find(uow, key)
    if found is None:
        raise ValidationError(field, f"{display_form(key)} is not in the loaded postcode directory")
    if found.terminated_on is not None:
        raise ValidationError(
            field,
            f"{found.display} was terminated in {found.terminated_on:%B %Y}; "
            "use the current postcode",
        )
    if not found.has_coordinates:
        raise ValidationError(
            field, f"{found.display} has no coordinates in the directory; place the zone on the map"
        )
    return found


def count(uow: UnitOfWork) -> int:
    return int(uow.connection.execute(select(func.count()).select_from(postcodes)).scalar_one())
