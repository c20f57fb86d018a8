"""Crime upload: police upload crime batches for their force area, and read them back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.evidence.crime_access import MAX_UPLOAD_BYTES, force_name, stated_reason
from vigil.evidence.crime_parsing import parse_crimes
from vigil.evidence.crime_records import BatchDetail, BatchRecord, RunRecord
from vigil.evidence.crimes import Crime, CrimeFormat, RowError
from vigil.evidence.tables import (
    crime_batches,
    crime_match_runs,
    crimes,
)
from vigil.people import force_boundaries
from vigil.security import audit, permissions
from vigil.security.model import Principal, Role

# ---------------------------------------------------------------------------------------------
# Upload


@dataclass(frozen=True)
class BatchSummary:
    id: int
    format: CrimeFormat
    rows: int
    accepted: int
    errors: list[RowError]


def upload_batch(
    uow: UnitOfWork,
    principal: Principal,
    text: str,
    *,
    filename: str,
    reason: str | None,
    fmt: CrimeFormat | None = None,
    max_window: timedelta = timedelta(hours=12),
) -> BatchSummary:
    """Store the good rows of a crime batch and a per-row error list for the bad ones; a file in
    neither format is refused whole (ValidationError on ``file``) and nothing is stored."""
    principal.require(permissions.CRIME_MATCHING)
    stated, own_force = _checked_upload(principal, text, filename, reason)
    parsed = parse_crimes(text, fmt=fmt, max_window=max_window)
    if parsed.refusal:
        # Nothing is stored: a batch of a file in another format would only list every row.
        raise ValidationError("file", f"{filename}: {parsed.refusal}")
    boundary = force_boundaries.boundary_of(uow, principal.force_area) if own_force else None
    accepted, row_errors = _own_force_crimes(parsed.crimes, own_force, boundary)
    row_errors = sorted([*parsed.errors, *row_errors], key=lambda e: e.row)
    batch_ref = next((c.batch_id for c in accepted if c.batch_id), None)
    force = own_force or next((c.force for c in accepted if c.force), None)
    now = uow.clock.now()
    batch_id = uow.connection.execute(
        insert(crime_batches)
        .values(
            force=force,
            source_batch_id=batch_ref,
            filename=filename,
            format=parsed.format.value,
            uploaded_at=now,
            uploaded_by=principal.actor,
            reason=stated,
            rows_total=parsed.rows,
            rows_accepted=len(accepted),
            errors=json.dumps([e.as_dict() for e in row_errors]),
        )
        .returning(crime_batches.c.id)
    ).scalar_one()
    _store_crimes(uow, int(batch_id), accepted)
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="crime_batch.upload",
        subject_type="crime_batch",
        subject_id=batch_id,
        detail={
            "reason": stated,
            "rows": parsed.rows,
            "accepted": len(accepted),
            "rejected_rows": len({e.row for e in row_errors}),
            "boundary_checked": boundary is not None,
        },
    )
    return BatchSummary(int(batch_id), parsed.format, parsed.rows, len(accepted), row_errors)


def _checked_upload(
    principal: Principal, text: str, filename: str, reason: str | None
) -> tuple[str, str | None]:
    """The stated reason, and the police user's own force (None for nationwide roles)."""
    errors = ErrorCollector()
    stated = stated_reason(reason, errors)
    errors.check(0 < len(text.encode()) <= MAX_UPLOAD_BYTES, "file", "must be 1 byte to 5 MB")
    errors.check(0 < len(filename) <= 200, "filename", "must be 1 to 200 characters")
    own_force = force_name(principal.force_area) if principal.role is Role.POLICE else None
    if principal.role is Role.POLICE and own_force is None:
        errors.add("force_area", "your account has no known force area; ask an administrator")
    errors.raise_if_any()
    return stated, own_force


def _store_crimes(uow: UnitOfWork, batch_id: int, accepted: list[Crime]) -> None:
    if not accepted:
        return
    uow.connection.execute(
        insert(crimes),
        [
            {
                "batch_id": batch_id,
                "row": c.row,
                "reference": c.reference,
                "crime_type": c.crime_type,
                "description": c.description,
                "lat": c.lat,
                "lon": c.lon,
                "easting": c.easting,
                "northing": c.northing,
                "window_from": c.window_from,
                "window_to": c.window_to,
            }
            for c in accepted
        ],
    )


def _own_force_crimes(
    found: list[Crime], own_force: str | None, boundary: force_boundaries.Boundary | None
) -> tuple[list[Crime], list[RowError]]:
    """Police may submit only their own force's crimes, in their own force area (when its
    boundary is loaded); a stray row is that row's error and the rest are kept."""
    accepted, refused = [], []
    for crime in found:
        if own_force is not None and crime.force is not None and crime.force != own_force:
            reason = f"is not your force ({own_force})"
            refused.append(RowError(crime.row, "policeForce", reason, crime.reference))
        elif boundary is not None and not boundary.holds(crime.lat, crime.lon):
            reason = f"lies outside your force area ({own_force})"
            refused.append(RowError(crime.row, "location", reason, crime.reference))
        else:
            accepted.append(crime)
    return accepted, refused


def _batch_row(uow: UnitOfWork, principal: Principal, batch_id: int) -> Any:
    principal.require(permissions.CRIME_MATCHING)
    row = uow.connection.execute(
        select(crime_batches).where(crime_batches.c.id == batch_id)
    ).first()
    if row is None:
        raise NotFound(f"crime batch {batch_id}")
    if principal.role is Role.POLICE and row.force != force_name(principal.force_area):
        raise NotFound(f"crime batch {batch_id}")
    return row


def list_batches(uow: UnitOfWork, principal: Principal) -> list[BatchRecord]:
    principal.require(permissions.CRIME_MATCHING)
    query = select(crime_batches).order_by(crime_batches.c.id.desc()).limit(200)
    if principal.role is Role.POLICE:
        query = query.where(crime_batches.c.force == force_name(principal.force_area))
    return [_batch_json(row) for row in uow.connection.execute(query)]


def _batch_json(row: Any) -> BatchRecord:
    return {
        "id": row.id,
        "force": row.force,
        "source_batch_id": row.source_batch_id,
        "filename": row.filename,
        "format": row.format,
        "uploaded_at": row.uploaded_at.isoformat(),
        "uploaded_by": row.uploaded_by,
        "rows_total": row.rows_total,
        "rows_accepted": row.rows_accepted,
        "errors": json.loads(row.errors),
    }


def get_batch(uow: UnitOfWork, principal: Principal, batch_id: int) -> BatchDetail:
    row = _batch_row(uow, principal, batch_id)
    runs = uow.connection.execute(
        select(crime_match_runs)
        .where(crime_match_runs.c.batch_id == batch_id)
        .order_by(crime_match_runs.c.id)
    )
    return BatchDetail(**_batch_json(row), runs=[_run_json(r) for r in runs])


def _run_json(row: Any) -> RunRecord:
    return {
        "id": row.id,
        "batch_id": row.batch_id,
        "algorithm_version": row.algorithm_version,
        "parameters": json.loads(row.parameters),
        "transformation": row.transformation,
        "run_at": row.run_at.isoformat(),
        "run_by": row.run_by,
        "reason": row.reason,
        "matches": row.matches,
    }
