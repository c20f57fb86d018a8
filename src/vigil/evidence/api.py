"""Evidence API (JSON and files under /api/evidence): crime batches, matching and review, exports,
weekly overviews, evidence packs, trail exports and programme statistics.

Entry points only translate: every read of a trail, match, overview or pack needs a ``reason``
(query parameter on GET, body field on POST) and the use case audits it. Who may do what is
decided by the services (see ``service``, ``stats`` and ``vigil.tracking.queries``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vigil.bootstrap import Container
from vigil.errors import ErrorCollector, ValidationError
from vigil.evidence import (
    crime_access,
    crime_matching,
    crime_upload,
    exports,
    overviews,
    pack,
    packs,
    stats,
    subject_access,
)
from vigil.evidence.crimes import CrimeFormat
from vigil.evidence.matching import MatchParameters
from vigil.security import audit
from vigil.security.model import Principal
from vigil.web.auth import ApiPrincipal, ContainerDep
from vigil.web.params import Metres, Minutes, RowId

router = APIRouter(prefix="/api/evidence", tags=["evidence"])

Reason = Annotated[str, Query(max_length=crime_access.REASON_MAX, description="Why you need this")]
MATCH_FORMATS = ("csv", "pdf", "geojson", "kml", "gpx")
MATCH_MEDIA = {**exports.MEDIA_TYPES, "pdf": "application/pdf"}


def safe_filename(name: str) -> str:
    """Only letters, digits, dot, dash and underscore reach a Content-Disposition header: a quote
    or semicolon in an id must not add a second ``filename=`` or a header of its own."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "download"
    return cleaned[:120]


def attachment(content: str | bytes, media_type: str, filename: str) -> Response:
    filename = safe_filename(filename)
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


async def read_upload(file: UploadFile) -> str:
    """The uploaded CSV as text (UTF-8, with or without a byte-order mark), at most 5 MB."""
    data = await file.read(crime_access.MAX_UPLOAD_BYTES + 1)
    if len(data) > crime_access.MAX_UPLOAD_BYTES:
        raise ValidationError("file", "must be at most 5 MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("file", "must be a UTF-8 text (CSV) file") from exc


def upload_format(value: str | None) -> CrimeFormat | None:
    if not value:
        return None
    try:
        return CrimeFormat(value)
    except ValueError as exc:
        choices = ", ".join(f.value for f in CrimeFormat)
        raise ValidationError("format", f"must be one of {choices} (or left out)") from exc


def match_parameters(
    radius_m: float, before_min: float, after_min: float, max_accuracy_m: float
) -> MatchParameters:
    params = MatchParameters(
        radius_m=radius_m,
        padding_before=timedelta(minutes=before_min),
        padding_after=timedelta(minutes=after_min),
        max_accuracy_m=max_accuracy_m,
        default_accuracy_m=min(30.0, max_accuracy_m),
    )
    params.validate()
    return params


def batch_summary_json(summary: crime_upload.BatchSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "format": summary.format.value,
        "rows": summary.rows,
        "accepted": summary.accepted,
        "rejected_rows": len({e.row for e in summary.errors}),
        "errors": [e.as_dict() for e in summary.errors],
    }


# ---------------------------------------------------------------------------------------------
# Crime batches and matching


@router.post("/crime-batches", status_code=201)
async def upload_batch(
    c: ContainerDep,
    principal: ApiPrincipal,
    file: Annotated[UploadFile, File(description="The crime batch (CSV)")],
    reason: Annotated[str, Form(max_length=crime_access.REASON_MAX)] = "",
    format: Annotated[str, Form(max_length=20)] = "",
) -> dict[str, Any]:
    text = await read_upload(file)
    fmt = upload_format(format)

    def work() -> crime_upload.BatchSummary:
        with c.uow() as uow:
            summary = crime_upload.upload_batch(
                uow, principal, text, filename=file.filename or "upload.csv", reason=reason, fmt=fmt
            )
            uow.commit()
        return summary

    return batch_summary_json(await run_in_threadpool(work))


@router.get("/crime-batches")
def list_batches(c: ContainerDep, principal: ApiPrincipal) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [dict(batch) for batch in crime_upload.list_batches(uow, principal)]


@router.get("/crime-batches/{batch_id}")
def get_batch(batch_id: RowId, c: ContainerDep, principal: ApiPrincipal) -> dict[str, Any]:
    with c.uow() as uow:
        return dict(crime_upload.get_batch(uow, principal, batch_id))


class RunIn(BaseModel):
    reason: str = Field(max_length=crime_access.REASON_MAX)
    radius_m: Metres = 100.0
    padding_before_min: Minutes = 15.0
    padding_after_min: Minutes = 15.0
    max_accuracy_m: Metres = 250.0


@router.post("/crime-batches/{batch_id}/runs", status_code=201)
def run_matching(
    batch_id: RowId, body: RunIn, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, Any]:
    params = match_parameters(
        body.radius_m, body.padding_before_min, body.padding_after_min, body.max_accuracy_m
    )
    with c.uow() as uow:
        run_id = crime_matching.run_matching(uow, principal, batch_id, params, body.reason)
        uow.commit()
    return {"id": run_id, "batch_id": batch_id}


@router.get("/runs/{run_id}")
def get_run(run_id: RowId, reason: Reason, c: ContainerDep, principal: ApiPrincipal) -> Any:
    with c.uow() as uow:
        run = crime_matching.get_run(uow, principal, run_id, reason)
        uow.commit()  # the audited view
    return _jsonable(run)


class ReviewIn(BaseModel):
    decision: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=500)


@router.post("/matches/{match_id}/review")
def review_match(
    match_id: RowId, body: ReviewIn, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, Any]:
    with c.uow() as uow:
        reviewed = crime_matching.review_match(uow, principal, match_id, body.decision, body.note)
        uow.commit()
    return dict(reviewed)


def export_run(
    c: Container, principal: Principal, run_id: RowId, fmt: str, reason: str | None
) -> Response:
    if fmt not in MATCH_FORMATS:
        raise ValidationError("format", f"must be one of {', '.join(MATCH_FORMATS)}")
    with c.uow() as uow:
        rows = crime_matching.confirmed_matches(uow, principal, run_id, reason, fmt)
        run = crime_matching.run_info(uow, principal, run_id)
        uow.commit()  # the audited export
    if fmt == "pdf":
        content: str | bytes = crime_matching.matches_pdf(run, rows, c.clock.now())
    else:
        content = exports.export_matches(fmt, rows)
    return attachment(content, MATCH_MEDIA[fmt], f"crime-matches-run-{run_id}.{fmt}")


@router.get("/runs/{run_id}/export")
def export_matches(
    run_id: RowId,
    reason: Reason,
    c: ContainerDep,
    principal: ApiPrincipal,
    format: Annotated[str, Query(max_length=10)] = "csv",
) -> Response:
    return export_run(c, principal, run_id, format, reason)


# ---------------------------------------------------------------------------------------------
# Weekly overviews


class WeeklyIn(BaseModel):
    week_start: date
    reason: str = Field(max_length=crime_access.REASON_MAX)


@router.post("/persons/{person_id}/weekly", status_code=201)
def generate_weekly(
    person_id: str, body: WeeklyIn, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, Any]:
    with c.uow() as uow:
        result = overviews.generate_weekly(
            uow,
            principal,
            c.settings,
            person_id=person_id,
            week_start=body.week_start,
            reason=body.reason,
        )
        uow.commit()
    return {
        "id": result.id,
        "person_id": person_id,
        "week_start": body.week_start.isoformat(),
        "sha256": result.sha256,
    }


@router.get("/persons/{person_id}/weekly")
def list_weekly(person_id: str, c: ContainerDep, principal: ApiPrincipal) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [dict(weekly) for weekly in overviews.list_weekly(uow, principal, person_id)]


@router.get("/weekly/{weekly_id}")
def get_weekly(
    weekly_id: RowId,
    reason: Reason,
    c: ContainerDep,
    principal: ApiPrincipal,
    format: Annotated[Literal["html", "pdf"], Query()] = "pdf",
) -> Response:
    with c.uow() as uow:
        summary, result = overviews.get_weekly(uow, principal, weekly_id, reason)
        uow.commit()  # the audited view
    name = f"weekly-overview-{summary['person_id']}-{summary['week_start']}"
    if format == "html":
        return attachment(result.html, "text/html; charset=utf-8", f"{name}.html")
    return attachment(result.pdf, "application/pdf", f"{name}.pdf")


# ---------------------------------------------------------------------------------------------
# Evidence packs


class PackIn(BaseModel):
    violation_id: str = Field(min_length=1, max_length=80)
    reason: str = Field(max_length=crime_access.REASON_MAX)


@router.post("/persons/{person_id}/packs", status_code=201)
def create_pack(
    person_id: str, body: PackIn, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, Any]:
    with c.uow() as uow:
        result = packs.create_pack(
            uow,
            principal,
            c.settings,
            person_id=person_id,
            violation_id=body.violation_id,
            reason=body.reason,
        )
        uow.commit()
    return {"id": result.id, "person_id": person_id, "sha256": result.sha256}


@router.get("/persons/{person_id}/packs")
def list_packs(person_id: str, c: ContainerDep, principal: ApiPrincipal) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [dict(stored) for stored in packs.list_packs(uow, principal, person_id)]


def pack_file(
    c: Container, principal: Principal, pack_id: RowId, fmt: str, reason: str
) -> Response:
    with c.uow() as uow:
        _summary, document = packs.get_pack(uow, principal, pack_id, reason)
        uow.commit()  # the audited view
    name = f"evidence-pack-{pack_id}"
    if fmt == "json":
        return attachment(document, "application/json", f"{name}.json")
    verification = pack.verify(document, packs.trusted_keys(c.settings))
    return attachment(packs.pack_pdf(document, verification), "application/pdf", f"{name}.pdf")


@router.get("/packs/{pack_id}")
def get_pack(
    pack_id: RowId,
    reason: Reason,
    c: ContainerDep,
    principal: ApiPrincipal,
    format: Annotated[Literal["json", "pdf"], Query()] = "json",
) -> Response:
    return pack_file(c, principal, pack_id, format, reason)


# ---------------------------------------------------------------------------------------------
# Trail exports


def trail_export(
    c: Container,
    principal: Principal,
    person_id: str,
    fmt: str,
    start: datetime,
    end: datetime,
    reason: str | None,
) -> Response:
    """A person's trail as a file: the tracking part's audited trail query, then an export
    entry naming the format, so the log shows both the read and that the data left."""
    from vigil.tracking import queries

    errors = ErrorCollector()
    errors.check(
        fmt in exports.TRAIL_FORMATS, "format", f"must be one of {', '.join(exports.TRAIL_FORMATS)}"
    )
    for name, value in (("start", start), ("end", end)):
        errors.check(
            value.tzinfo is not None, name, "must include a timezone (UTC 'Z' or an offset)"
        )
    errors.raise_if_any()
    with c.uow() as uow:
        found = queries.trail(uow, principal, person_id, start, end, reason)
        points = [
            exports.TrailPoint(
                f.id, f.fix_time, float(f.lat), float(f.lon), f.accuracy_m, f.device_id
            )
            for f in found.fixes
            if f.lat is not None and f.lon is not None and not f.invalid_position
        ]
        audit.record(
            uow.connection,
            at=uow.clock.now(),
            actor=principal.actor,
            action="trail.export",
            subject_type="person",
            subject_id=person_id,
            detail={
                "reason": (reason or "").strip(),
                "format": fmt,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "fixes": len(points),
            },
        )
        uow.commit()
    content = exports.export_trail(fmt, person_id, points)
    stamp = start.strftime("%Y%m%dT%H%M")
    return attachment(content, exports.MEDIA_TYPES[fmt], f"trail-{person_id}-{stamp}.{fmt}")


@router.get("/persons/{person_id}/trail")
def export_trail(
    person_id: str,
    start: datetime,
    end: datetime,
    reason: Reason,
    c: ContainerDep,
    principal: ApiPrincipal,
    format: Annotated[str, Query(max_length=10)] = "geojson",
) -> Response:
    return trail_export(c, principal, person_id, format, start, end, reason)


# ---------------------------------------------------------------------------------------------
# Programme statistics


def statistics_json(result: stats.Statistics) -> dict[str, Any]:
    return {
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "wearers_total": result.wearers_total,
        "wearers": [
            {
                "region": region,
                "region_name": result.region_names.get(region, region),
                "pilot": pilot,
                "wearers": n,
            }
            for (region, pilot), n in result.wearers.items()
        ],
        "wearer_days": result.wearer_days,
        "wearer_days_by_pilot": result.wearer_days_by_pilot,
        "violations": {
            kind: {"count": n, "per_100_wearer_days": result.per_100_days(n)}
            for kind, n in result.violations.items()
        },
        "alerts": {
            "created": result.alerts_created,
            "resolved": result.resolved,
            "outcomes": result.outcomes,
            "false_alert_rate": result.false_alert_rate,
        },
        "time_to_acknowledge_min": {
            "acknowledged": result.acknowledged,
            "median": result.ack_median_min,
            "p90": result.ack_p90_min,
        },
        "recalls": result.recalls,
    }


@router.get("/statistics")
def programme_statistics(
    start: date,
    end: date,
    reason: Reason,
    c: ContainerDep,
    principal: ApiPrincipal,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    with c.uow() as uow:
        result = stats.programme_statistics(uow, principal, start, end, reason, c.settings.timezone)
        uow.commit()  # the audited report
    if format == "csv":
        return attachment(
            stats.statistics_csv(result),
            "text/csv; charset=utf-8",
            f"programme-statistics-{start.isoformat()}-{end.isoformat()}.csv",
        )
    import json

    return Response(json.dumps(statistics_json(result)), media_type="application/json")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@router.get(
    "/persons/{person_id}/subject-access",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The export (a zip)"}},
)
def subject_access_export(person_id: RowId, principal: ApiPrincipal, c: ContainerDep) -> Response:
    """Everything held about a monitored person, for a subject access request, with what would
    reveal a protected person withheld (see docs/evidence.md). Administrators only; audited."""
    with c.uow() as uow:
        found = subject_access.export(uow, principal, person_id)
        uow.commit()  # the audited export
    return Response(
        found.content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )
