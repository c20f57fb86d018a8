"""Reading an incidents CSV: every row checked at once (vectorised), bad rows named, good rows kept.

The header must name every column in ``INCIDENT_COLUMNS``; other columns are kept with the row
(``extra``). A bad row is reported with its line number, the field and the reason, and left out;
the good rows go on.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from vigil.errors import ValidationError
from vigil.harm.model import (
    FALSE_WORDS,
    FLAG_COLUMNS,
    INCIDENT_COLUMNS,
    MAX_TEXT,
    REQUIRED_COLUMNS,
    TRUE_WORDS,
)

NAIVE_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
MAX_LENGTHS = {
    "incident_ref": 80,
    "force": 60,
    "offence_group": 100,
    "suspect_id": 60,
    "victim_id": 60,
}


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.reason}"


@dataclass
class ParsedFile:
    """Good rows (typed) and the errors of the bad ones."""

    rows: pl.DataFrame
    errors: list[RowError]
    total: int
    extra_columns: list[str]


def read_csv(content: bytes) -> pl.DataFrame:
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    if not content.strip():
        raise ValidationError("file", "is empty")
    try:
        # Straight from the bytes (no decoded copy): polars checks the UTF-8 itself.
        frame = pl.read_csv(content, infer_schema=False, empty_string_is_null=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        reason = str(exc).splitlines()[0]
        raise ValidationError("file", f"is not a readable UTF-8 CSV ({reason})") from exc
    frame.columns = [name.strip().lower() for name in frame.columns]
    missing = [name for name in INCIDENT_COLUMNS if name not in frame.columns]
    if missing:
        raise ValidationError("header", f"is missing the column(s): {', '.join(missing)}")
    return frame


def _parse_datetime(column: str) -> pl.Expr:
    """ISO date or date-time; with Z or an offset it is converted, without one it is UTC."""
    value = pl.col(column).str.strip_chars().str.replace("T", " ", literal=True)
    attempts = [
        value.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%d %H:%M:%S%.f%#z", strict=False)
    ]
    attempts += [
        value.str.strptime(pl.Datetime("us"), fmt, strict=False).dt.replace_time_zone("UTC")
        for fmt in NAIVE_FORMATS
    ]
    as_date = value.str.strptime(pl.Date, "%Y-%m-%d", strict=False).cast(pl.Datetime("us"))
    attempts.append(as_date.dt.replace_time_zone("UTC"))
    return pl.coalesce(attempts)


def _parse_date(column: str) -> pl.Expr:
    value = pl.col(column).str.strip_chars()
    return pl.coalesce([value.str.strptime(pl.Date, fmt, strict=False) for fmt in DATE_FORMATS])


def _flag(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_lowercase().is_in(list(TRUE_WORDS))


def parse_incidents(content: bytes, now: datetime) -> ParsedFile:
    """Check every row; rows with any problem are reported and left out."""
    raw = read_csv(content)
    extra = [name for name in raw.columns if name not in INCIDENT_COLUMNS]
    text_cols = [pl.col(name).str.strip_chars() for name in INCIDENT_COLUMNS]
    frame = (
        raw.with_row_index("row", offset=2)
        .with_columns(text_cols)
        .with_columns([pl.col(name).fill_null("") for name in INCIDENT_COLUMNS])
    )
    typed = frame.with_columns(
        occurred=_parse_datetime("occurred_at"),
        s_dob=_parse_date("suspect_dob"),
        v_dob=_parse_date("victim_dob"),
    )
    checks = _checks(now.astimezone(UTC) + timedelta(days=1))
    flagged = typed.with_columns(
        [expr.fill_null(False).alias(f"__e{i}") for i, (_, expr, _) in enumerate(checks)]
    )
    error_cols = [f"__e{i}" for i in range(len(checks))]
    errors = _row_errors(flagged.filter(pl.any_horizontal(error_cols)), checks)
    good = flagged.filter(~pl.any_horizontal(error_cols)).drop(error_cols)
    return ParsedFile(
        rows=_as_stored(good, extra), errors=errors, total=raw.height, extra_columns=extra
    )


# (field, true where the row is wrong, why in words)
_Check = tuple[str, pl.Expr, str]


def _checks(latest: datetime) -> list[_Check]:
    """Every check a row must pass; ``latest`` is the latest moment not "in the future"."""
    checks: list[_Check] = []
    for name in REQUIRED_COLUMNS:
        checks.append((name, pl.col(name) == "", "is required"))
    for name, limit in MAX_LENGTHS.items():
        checks.append((name, pl.col(name).str.len_chars() > limit, f"is longer than {limit}"))
    for name in ("offence", "suspect_name", "victim_name"):
        checks.append((name, pl.col(name).str.len_chars() > MAX_TEXT, f"is longer than {MAX_TEXT}"))
    checks += _row_checks(latest)
    for name, parsed in (("suspect_dob", "s_dob"), ("victim_dob", "v_dob")):
        checks.append(
            (
                name,
                (pl.col(name) != "") & pl.col(parsed).is_null(),
                "must be a date (YYYY-MM-DD or DD/MM/YYYY)",
            )
        )
        checks.append((name, pl.col(parsed) > pl.lit(latest.date()), "is in the future"))
    flag_words = list(TRUE_WORDS | FALSE_WORDS)
    for name in FLAG_COLUMNS:
        checks.append(
            (name, ~pl.col(name).str.to_lowercase().is_in(flag_words), "must be true or false")
        )
    return checks


def _row_checks(latest: datetime) -> list[_Check]:
    """Checks that read more than one field, or the rows before."""
    return [
        (
            "incident_ref",
            (pl.col("incident_ref") != "")
            & pl.col("incident_ref").is_duplicated()
            & (pl.col("row") != pl.col("row").first().over("incident_ref")),
            "appears earlier in the file",
        ),
        (
            "occurred_at",
            (pl.col("occurred_at") != "") & pl.col("occurred").is_null(),
            "must be an ISO date or date-time (e.g. 2025-03-14 or 2025-03-14T21:30:00Z)",
        ),
        ("occurred_at", pl.col("occurred") > pl.lit(latest), "is in the future"),
        (
            "suspect_name",
            (pl.col("suspect_id") == "")
            & ((pl.col("suspect_name") == "") | (pl.col("suspect_dob") == "")),
            "name and date of birth are required when suspect_id is blank",
        ),
        (
            "suspect_name",
            (pl.col("suspect_name") != "") & ~pl.col("suspect_name").str.contains(r"[A-Za-z]"),
            "must contain letters",
        ),
        (
            "victim_name",
            (pl.col("victim_name") != "") & ~pl.col("victim_name").str.contains(r"[A-Za-z]"),
            "must contain letters",
        ),
    ]


def _row_errors(bad: pl.DataFrame, checks: list[_Check]) -> list[RowError]:
    """One error per failed check of each bad row, in row order then column order."""
    errors: list[RowError] = []
    for i, (field, _, reason) in enumerate(checks):
        for row in bad.filter(pl.col(f"__e{i}"))["row"].to_list():
            errors.append(RowError(int(row), field, reason))
    errors.sort(key=lambda e: (e.row, INCIDENT_COLUMNS.index(e.field)))
    return errors


def _as_stored(good: pl.DataFrame, extra: list[str]) -> pl.DataFrame:
    """Good rows with flags as booleans, the offence filled from its group, the row's hash (to
    recognise a row loaded before) and any extra columns kept as JSON."""
    hash_input = pl.concat_str(
        [pl.col(name) for name in (*INCIDENT_COLUMNS, *extra)], separator="\x1f"
    )
    return good.with_columns(
        [_flag(name) for name in FLAG_COLUMNS],
        offence=pl.when(pl.col("offence") == "")
        .then(pl.col("offence_group"))
        .otherwise(pl.col("offence")),
        row_hash=hash_input.map_batches(_sha256, return_dtype=pl.Utf8),
        extra=pl.struct(extra).struct.json_encode() if extra else pl.lit("{}"),
    )


def _sha256(values: pl.Series) -> pl.Series:
    return pl.Series(
        [hashlib.sha256(v.encode()).hexdigest() for v in values.to_list()], dtype=pl.Utf8
    )
