"""The crime harm index: days of harm per offence, from a shipped default or a user's table.

The default is the Cambridge Crime Harm Index's median days per Home Office offence subgroup
(``default_harm_index.csv`` beside this file). A user may load a fuller table, keyed by offence
(e.g. "Assault occasioning actual bodily harm") and/or offence subgroup, from CSV or XLSX. An
incident's harm is the days of its offence when the table names it, else of its subgroup, else 0
(and the subgroup is reported as unknown, so a gap in the table is seen, not silently scored).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from vigil.errors import FieldError, ValidationError

DEFAULT_TABLE = Path(__file__).with_name("default_harm_index.csv")
MAX_HARM_DAYS = 36_500.0


def harm_key(value: str) -> str:
    return " ".join(value.strip().lower().split())


@dataclass(frozen=True)
class HarmIndex:
    """Harm in days by offence (most specific) and by offence subgroup (fallback)."""

    by_group: dict[str, float]
    by_offence: dict[str, float] = field(default_factory=dict)
    source: str = "default"

    def days(self, offence: str | None, group: str | None) -> float | None:
        if offence and (found := self.by_offence.get(harm_key(offence))) is not None:
            return found
        if group and (found := self.by_group.get(harm_key(group))) is not None:
            return found
        return None

    def expression(self, offence: str, group: str) -> pl.Expr:
        """The harm days of every row of a frame, 0 when neither column is in the table."""
        by_offence = pl.col(offence).str.to_lowercase().str.strip_chars()
        by_group = pl.col(group).str.to_lowercase().str.strip_chars()
        offence_days = (
            by_offence.replace_strict(
                list(self.by_offence),
                list(self.by_offence.values()),
                default=None,
                return_dtype=pl.Float64,
            )
            if self.by_offence
            else pl.lit(None, dtype=pl.Float64)
        )
        group_days = by_group.replace_strict(
            list(self.by_group),
            list(self.by_group.values()),
            default=None,
            return_dtype=pl.Float64,
        )
        return pl.coalesce(offence_days, group_days, pl.lit(0.0))

    def with_overrides(self, rows: list[tuple[str, str, float]], source: str) -> HarmIndex:
        """A copy with ("offence"|"group", key, days) rows layered over this table."""
        by_group = dict(self.by_group)
        by_offence = dict(self.by_offence)
        for kind, key, days in rows:
            (by_offence if kind == "offence" else by_group)[harm_key(key)] = days
        return HarmIndex(by_group=by_group, by_offence=by_offence, source=source)

    def rows(self) -> list[tuple[str, str, float]]:
        return [("group", k, v) for k, v in sorted(self.by_group.items())] + [
            ("offence", k, v) for k, v in sorted(self.by_offence.items())
        ]


def default_index() -> HarmIndex:
    with DEFAULT_TABLE.open(newline="", encoding="utf-8") as handle:
        by_group = {
            harm_key(row["offence_group"]): float(row["harm_days"])
            for row in csv.DictReader(handle)
        }
    return HarmIndex(by_group=by_group, source="Cambridge Crime Harm Index (default)")


def _parse_days(raw: object) -> float | None:
    try:
        days = float(str(raw).strip().replace(",", ""))
    except ValueError:
        return None
    if math.isnan(days) or days < 0 or days > MAX_HARM_DAYS:
        return None
    return days


def _records_from_xlsx(content: bytes) -> list[dict[str, object]]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValidationError("file", f"is not a readable XLSX workbook ({exc})") from exc
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    book.close()
    if not rows:
        raise ValidationError("file", "the first sheet is empty")
    header = [harm_key(str(cell or "")).replace(" ", "_") for cell in rows[0]]
    return [
        {header[i]: ("" if cell is None else cell) for i, cell in enumerate(row) if i < len(header)}
        for row in rows[1:]
        if any(cell not in (None, "") for cell in row)
    ]


def _records_from_csv(content: bytes) -> list[dict[str, object]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("file", "is not UTF-8 text") from exc
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ValidationError("file", "has no header row")
    reader.fieldnames = [harm_key(name).replace(" ", "_") for name in reader.fieldnames]
    return [dict(row) for row in reader]


def parse_table(content: bytes, filename: str) -> list[tuple[str, str, float]]:
    """Rows of ("offence"|"group", key, days) from a CSV or XLSX harm table.

    Columns: ``harm_days`` and at least one of ``offence`` / ``offence_group``. A row with an
    offence sets that offence; a row with only a subgroup sets the subgroup. Every bad row is
    reported (row number, field, reason) and nothing is loaded when any row is bad.
    """
    is_xlsx = filename.lower().endswith((".xlsx", ".xlsm")) or content[:2] == b"PK"
    records = _records_from_xlsx(content) if is_xlsx else _records_from_csv(content)
    if not records:
        raise ValidationError("file", "has no rows")
    columns = set(records[0])
    if "harm_days" not in columns:
        raise ValidationError("harm_days", "column is missing")
    if not columns & {"offence", "offence_group"}:
        raise ValidationError("offence", "column is missing (or offence_group)")
    out: list[tuple[str, str, float]] = []
    errors: list[FieldError] = []
    for number, record in enumerate(records, start=2):
        days = _parse_days(record.get("harm_days", ""))
        if days is None:
            errors.append(
                FieldError(
                    f"row {number}.harm_days", f"must be a number of days 0–{MAX_HARM_DAYS:,.0f}"
                )
            )
            continue
        offence = str(record.get("offence", "") or "").strip()
        group = str(record.get("offence_group", "") or "").strip()
        if offence:
            out.append(("offence", offence, days))
        elif group:
            out.append(("group", group, days))
        else:
            errors.append(FieldError(f"row {number}.offence", "is required (or offence_group)"))
    if errors:
        raise ValidationError(errors)
    return out
