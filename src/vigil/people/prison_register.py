"""The prison register: establishments and their addresses, loaded from the bundled public list."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import insert, select, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.people.tables import (
    prisons,
)
from vigil.security import audit

_PRISON_WORDS = {"HMP", "YOI", "HMYOI", "HMP/YOI", "HM", "PRISON", "AND", "&", "HMPYOI", "IRC"}


@dataclass(frozen=True)
class PrisonLoadReport:
    prisons: int
    with_address: int
    addresses: int


def _key(name: str) -> str:
    words = [w for w in name.upper().replace("/", " / ").split() if w not in _PRISON_WORDS]
    return " ".join(w for w in words if w != "/")


def _match_addresses(
    prison_rows: list[dict[str, str]], address_rows: list[dict[str, str]]
) -> dict[str, dict[str, str]]:
    """Pair prisons with addresses by the distinctive part of the name.

    The two files share no key. A prison's name ("HMP Birmingham") is looked for in the address's
    own name first ("HM PRISON ALTCOURSE"), then its town, then its street or county; a prison is
    given an address only when exactly one address matches at the best level, and each address
    goes to one prison.
    """
    scored: list[tuple[int, str, int]] = []
    for prison in prison_rows:
        key = _key(prison["name"])
        if not key:
            continue
        for index, address in enumerate(address_rows):
            fields = [
                (3, address["address:name"]),
                (2, address["town"]),
                (2, address["administrative-area"]),
                (1, address["street:name"]),
            ]
            score = max(
                (weight for weight, value in fields if f" {key} " in f" {value.upper()} "),
                default=0,
            )
            if score:
                scored.append((score, prison["prison-estate"], index))
    best: dict[str, list[tuple[int, int]]] = {}
    for score, code, index in scored:
        best.setdefault(code, []).append((score, index))
    matched: dict[str, dict[str, str]] = {}
    used: set[int] = set()
    for score, code, index in sorted(scored, reverse=True):
        if code in matched or index in used:
            continue
        top = max(s for s, _ in best[code])
        if score < top or sum(1 for s, _ in best[code] if s == top) != 1:
            continue
        matched[code] = address_rows[index]
        used.add(index)
    return matched


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            {k: (v or "").strip() for k, v in row.items()}
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def _parse_date(value: str) -> date | None:
    """Register dates are ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; a missing part is the first."""
    if not value:
        return None
    parts = [int(part) for part in value.split("-")]
    return date(parts[0], *([*parts[1:], 1, 1])[:2])


# The prison estate register (symroe/prison-estate-data, OGL v3) ships with the package, so the demo
# and a fresh install have the real estate without a download.
BUNDLED_PRISON_REGISTER = Path(__file__).resolve().parent / "data"


def load_prisons(uow: UnitOfWork, directory: Path, actor: str) -> PrisonLoadReport:
    """Load ``prison.tsv`` and ``prison-address.tsv`` from a directory; upsert by prison code.

    In ``prison-address.tsv`` the ``long`` and ``lat`` headers are swapped: the column headed
    ``long`` holds the latitude. Each pair is checked against Great Britain's extent so a file
    with the headers put right is read correctly too.
    """
    prison_rows, address_rows = _read_register(directory)
    matched = _match_addresses(prison_rows, address_rows)
    conn = uow.connection
    existing = set(conn.execute(select(prisons.c.code)).scalars())
    for row in prison_rows:
        code = row["prison-estate"]
        values = _prison_values(row, matched.get(code))
        if code in existing:
            conn.execute(update(prisons).where(prisons.c.code == code).values(**values))
        else:
            conn.execute(insert(prisons).values(code=code, **values))
    report = PrisonLoadReport(len(prison_rows), len(matched), len(address_rows))
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=actor,
        action="prisons.load",
        subject_type="prison",
        detail={"prisons": report.prisons, "with_address": report.with_address},
    )
    return report


def _read_register(directory: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    prison_file = directory / "prison.tsv"
    address_file = directory / "prison-address.tsv"
    for path, name in ((prison_file, "prison.tsv"), (address_file, "prison-address.tsv")):
        if not path.is_file():
            raise ValidationError("path", f"{name} not found in {directory}")
    prison_rows = _read_tsv(prison_file)
    for row in prison_rows:
        if not row.get("prison-estate") or not row.get("name"):
            raise ValidationError("prison.tsv", "every row needs prison-estate and name")
    # A code can appear twice when a prison was re-roled (HMP to IRC Morton Hall); the later row
    # is the current one.
    prison_rows = list({row["prison-estate"]: row for row in prison_rows}.values())
    return prison_rows, _read_tsv(address_file)


def _prison_values(row: dict[str, str], address: dict[str, str] | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": row["name"],
        "opened_on": _parse_date(row.get("start-date", "")),
        "closed_on": _parse_date(row.get("end-date", "")),
        "address": None,
        "town": None,
        "postcode": None,
        "lat": None,
        "lon": None,
    }
    if address:
        first, second = float(address["long"]), float(address["lat"])
        lat, lon = (first, second) if 49 <= first <= 61 else (second, first)
        lines = filter(None, [address["address:name"], address["street:name"]])
        values.update(
            address=", ".join(lines).title(),
            town=address["town"].title(),
            postcode=address["postcode"],
            lat=lat,
            lon=lon,
        )
    return values


class PrisonRecord(TypedDict):
    """A prison as the register lists it (``closed_on`` ISO text, or None while open)."""

    code: str
    name: str
    closed_on: str | None
    town: str | None
    postcode: str | None
    lat: float | None
    lon: float | None


def list_prisons(uow: UnitOfWork) -> list[PrisonRecord]:
    rows = uow.connection.execute(select(prisons).order_by(prisons.c.name))
    return [
        {
            "code": r.code,
            "name": r.name,
            "closed_on": r.closed_on.isoformat() if r.closed_on else None,
            "town": r.town,
            "postcode": r.postcode,
            "lat": r.lat,
            "lon": r.lon,
        }
        for r in rows
    ]
