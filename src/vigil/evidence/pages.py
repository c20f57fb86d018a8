"""Evidence pages (GOV.UK / MOJ style): crime batches and match review for police and analysts,
weekly overviews, evidence packs and trail exports for officers, programme statistics.

Every page that shows or hands out a trail, a match, an overview or a pack asks for a stated
reason first (a short form), and the use case audits it with that reason. Links that carry on
from a form (e.g. after running a match) carry the same reason, so the log reads as one request.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.alerts import alert_reads
from vigil.bootstrap import Container
from vigil.errors import ValidationError
from vigil.evidence import (
    api,
    crime_access,
    crime_matching,
    crime_upload,
    exports,
    overviews,
    packs,
    stats,
)
from vigil.evidence.crimes import CRIME_TYPES
from vigil.evidence.weekly import monday_of
from vigil.security import permissions
from vigil.security.model import Principal
from vigil.text import finite_number
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.params import RowId
from vigil.web.templating import path_segment, render

router = APIRouter(prefix="/evidence", include_in_schema=False)
NAVIGATION = [
    NavItem(
        "Crime matching",
        "/evidence/crime",
        permissions.CRIME_MATCHING,
        "Upload a crime batch, match it against tagged persons' trails and review the matches.",
    ),
    NavItem(
        "Programme statistics",
        "/evidence/statistics",
        permissions.PROGRAMME_STATISTICS,
        "Wearers, violations, alert outcomes, time to acknowledge and recalls, with CSV export.",
    ),
    NavItem(
        "Evidence and overviews",
        "/evidence",
        permissions.PERSON_EVIDENCE,
        "Weekly movement overviews, violation evidence packs and trail exports for a person.",
    ),
]
Errors = list[tuple[str, str]]


def _errors(exc: ValidationError) -> Errors:
    return [(e.field, e.reason) for e in exc.errors]


def _local(settings_tz: str) -> Any:
    tz = ZoneInfo(settings_tz)

    def local(value: Any, fmt: str = "%d %b %Y %H:%M") -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime):
            return value.astimezone(tz).strftime(fmt)
        return str(value)

    return local


def _page(
    request: Request,
    c: Container,
    principal: Principal,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("errors", [])
    context["local"] = _local(c.settings.timezone)
    return render(request, template, context, principal=principal, status_code=status_code)


def _reason_page(
    request: Request,
    c: Container,
    principal: Principal,
    *,
    title: str,
    action: str,
    hidden: dict[str, str],
    errors: Errors | None = None,
) -> HTMLResponse:
    """Ask why before showing anything from a trail (GET form, so the answer is a plain link)."""
    return _page(
        request,
        c,
        principal,
        "evidence/reason.html",
        status_code=422 if errors else 200,
        title=title,
        action=action,
        hidden=hidden,
        errors=errors or [],
    )


def _with(url: str, **params: str) -> str:
    return f"{url}?{urlencode(params)}"


# ---------------------------------------------------------------------------------------------
# Hub


@router.get("", response_class=HTMLResponse)
def hub(
    request: Request, c: ContainerDep, principal: PagePrincipal, person_id: str = ""
) -> Response:
    if person_id.strip():
        return RedirectResponse(
            f"/evidence/persons/{path_segment(person_id.strip())}", status_code=303
        )
    return _page(
        request,
        c,
        principal,
        "evidence/hub.html",
        crime=principal.may(permissions.CRIME_MATCHING),
        persons=principal.may(permissions.PERSON_EVIDENCE),
        statistics=principal.may(permissions.PROGRAMME_STATISTICS),
    )


# ---------------------------------------------------------------------------------------------
# Crime batches


def _crime_page(
    request: Request, c: Container, principal: Principal, errors: Errors, status_code: int = 200
) -> HTMLResponse:
    with c.uow() as uow:
        batches = crime_upload.list_batches(uow, principal)
    return _page(
        request,
        c,
        principal,
        "evidence/crime.html",
        status_code=status_code,
        batches=batches,
        errors=errors,
        crime_types=sorted(CRIME_TYPES),
    )


@router.get("/crime", response_class=HTMLResponse)
def crime_page(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    return _crime_page(request, c, principal, [])


@router.post("/crime/upload", response_class=HTMLResponse)
async def upload(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    file: Annotated[UploadFile | None, File()] = None,
    reason: Annotated[str, Form(max_length=crime_access.REASON_MAX)] = "",
) -> Response:
    try:
        if file is None or not file.filename:
            raise ValidationError("file", "Choose a CSV file of crimes to upload")
        text = await api.read_upload(file)
        with c.uow() as uow:
            summary = crime_upload.upload_batch(
                uow, principal, text, filename=file.filename, reason=reason
            )
            uow.commit()
    except ValidationError as exc:
        return _crime_page(request, c, principal, _errors(exc), status_code=422)
    return RedirectResponse(f"/evidence/crime/batches/{summary.id}?uploaded=1", status_code=303)


def _batch_page(
    request: Request,
    c: Container,
    principal: Principal,
    batch_id: RowId,
    errors: Errors,
    form: dict[str, str] | None = None,
    uploaded: bool = False,
) -> HTMLResponse:
    with c.uow() as uow:
        batch = crime_upload.get_batch(uow, principal, batch_id)
    return _page(
        request,
        c,
        principal,
        "evidence/batch.html",
        status_code=422 if errors else 200,
        batch=batch,
        errors=errors,
        uploaded=uploaded,
        form=form
        or {
            "radius_m": "100",
            "padding_before_min": "15",
            "padding_after_min": "15",
            "max_accuracy_m": "250",
            "reason": "",
        },
    )


@router.get("/crime/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(
    request: Request,
    batch_id: RowId,
    c: ContainerDep,
    principal: PagePrincipal,
    uploaded: bool = False,
) -> Response:
    return _batch_page(request, c, principal, batch_id, [], uploaded=uploaded)


def _number(value: str, field: str, errors: Errors) -> float:
    try:
        return finite_number(value)
    except ValueError:
        errors.append((field, "Enter a number"))
        return 0.0


@router.post("/crime/batches/{batch_id}/run", response_class=HTMLResponse)
def run_matching(
    request: Request,
    batch_id: RowId,
    c: ContainerDep,
    principal: PagePrincipal,
    radius_m: Annotated[str, Form(max_length=10)] = "100",
    padding_before_min: Annotated[str, Form(max_length=10)] = "15",
    padding_after_min: Annotated[str, Form(max_length=10)] = "15",
    max_accuracy_m: Annotated[str, Form(max_length=10)] = "250",
    reason: Annotated[str, Form(max_length=crime_access.REASON_MAX)] = "",
) -> Response:
    form = {
        "radius_m": radius_m,
        "padding_before_min": padding_before_min,
        "padding_after_min": padding_after_min,
        "max_accuracy_m": max_accuracy_m,
        "reason": reason,
    }
    errors: Errors = []
    numbers = {k: _number(v, k, errors) for k, v in form.items() if k != "reason"}
    if not crime_access.REASON_MIN <= len(reason.strip()) <= crime_access.REASON_MAX:
        errors.append(("reason", "Say why you are running this match (5 to 500 characters)"))
    if errors:
        return _batch_page(request, c, principal, batch_id, errors, form)
    try:
        params = api.match_parameters(
            numbers["radius_m"],
            numbers["padding_before_min"],
            numbers["padding_after_min"],
            numbers["max_accuracy_m"],
        )
        with c.uow() as uow:
            run_id = crime_matching.run_matching(uow, principal, batch_id, params, reason)
            uow.commit()
    except ValidationError as exc:
        return _batch_page(request, c, principal, batch_id, _errors(exc), form)
    return RedirectResponse(
        _with(f"/evidence/crime/runs/{run_id}", reason=reason.strip()), status_code=303
    )


def _run_page(
    request: Request,
    c: Container,
    principal: Principal,
    run_id: RowId,
    reason: str,
    errors: Errors | None = None,
) -> HTMLResponse:
    try:
        with c.uow() as uow:
            run = crime_matching.get_run(uow, principal, run_id, reason)
            uow.commit()  # the audited view
    except ValidationError as exc:
        return _reason_page(
            request,
            c,
            principal,
            title=f"Matching run {run_id}",
            action=f"/evidence/crime/runs/{run_id}",
            hidden={},
            errors=_errors(exc) if reason else None,
        )
    radius = float(run["parameters"]["radius_m"])
    for match in run["results"]:
        match["map"] = crime_matching.match_map_svg(match, radius)
    counts = {s.value: 0 for s in crime_access.MatchStatus}
    for match in run["results"]:
        counts[match["status"]] += 1
    return _page(
        request,
        c,
        principal,
        "evidence/run.html",
        status_code=422 if errors else 200,
        run=run,
        reason=reason,
        counts=counts,
        can_review=principal.may(permissions.MATCH_REVIEW),
        formats=api.MATCH_FORMATS,
        errors=errors or [],
    )


@router.get("/crime/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, run_id: RowId, c: ContainerDep, principal: PagePrincipal, reason: str = ""
) -> Response:
    return _run_page(request, c, principal, run_id, reason)


@router.post("/crime/matches/{match_id}/review")
def review_match(
    request: Request,
    match_id: RowId,
    c: ContainerDep,
    principal: PagePrincipal,
    run_id: Annotated[RowId, Form()],
    decision: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    reason: Annotated[str, Form(max_length=crime_access.REASON_MAX)] = "",
) -> Response:
    try:
        with c.uow() as uow:
            crime_matching.review_match(uow, principal, match_id, decision, note)
            uow.commit()
    except ValidationError as exc:
        # The error names the match's own note field, so the summary link lands on it.
        errors = [(f"note-{match_id}" if f == "note" else f, r) for f, r in _errors(exc)]
        return _run_page(request, c, principal, run_id, reason, errors)
    return RedirectResponse(
        _with(f"/evidence/crime/runs/{run_id}", reason=reason) + f"#match-{match_id}",
        status_code=303,
    )


@router.get("/crime/runs/{run_id}/export")
def export_matches(
    request: Request,
    run_id: RowId,
    c: ContainerDep,
    principal: PagePrincipal,
    format: str = "csv",
    reason: str = "",
) -> Response:
    try:
        return api.export_run(c, principal, run_id, format, reason)
    except ValidationError as exc:
        return _reason_page(
            request,
            c,
            principal,
            title=f"Export the confirmed matches of run {run_id}",
            action=f"/evidence/crime/runs/{run_id}/export",
            hidden={"format": format},
            errors=_errors(exc),
        )


# ---------------------------------------------------------------------------------------------
# A person: weekly overviews, evidence packs, trail exports


def _person_page(
    request: Request,
    c: Container,
    principal: Principal,
    person_id: str,
    errors: Errors,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    from vigil.alerts.alert_reads import AlertFilter

    with c.uow() as uow:
        weekly_rows = overviews.list_weekly(uow, principal, person_id)
        pack_rows = packs.list_packs(uow, principal, person_id)
        alerts = alert_reads.list_alerts(
            uow, principal, AlertFilter(person_id=person_id, limit=200)
        )
    episodes: dict[str, dict[str, Any]] = {}
    for alert in alerts:
        if alert.get("source") == "episode" and alert.get("episode_id"):
            episodes.setdefault(str(alert["episode_id"]), alert)
    tz = ZoneInfo(c.settings.timezone)
    now = c.clock.now().astimezone(tz)
    last_monday = monday_of(now.date()) - timedelta(days=7)
    defaults = {
        "week_start": last_monday.isoformat(),
        "violation_id": request.query_params.get("violation_id", ""),
        "trail_start": (now - timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M"),
        "trail_end": now.strftime("%Y-%m-%dT%H:%M"),
        "format": "geojson",
        "reason": "",
    }
    return _page(
        request,
        c,
        principal,
        "evidence/person.html",
        status_code=422 if errors else 200,
        person_id=person_id,
        overviews=weekly_rows,
        packs=pack_rows,
        episodes=list(episodes.values()),
        errors=errors,
        form={**defaults, **(form or {})},
        can_weekly=principal.may(permissions.WEEKLY_OVERVIEW),
        can_pack=principal.may(permissions.EVIDENCE_PACKS),
        trail_formats=exports.TRAIL_FORMATS,
    )


@router.get("/persons/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request, person_id: str, c: ContainerDep, principal: PagePrincipal
) -> Response:
    return _person_page(request, c, principal, person_id, [])


@router.post("/persons/{person_id}/weekly", response_class=HTMLResponse)
def generate_weekly(
    request: Request,
    person_id: str,
    c: ContainerDep,
    principal: PagePrincipal,
    week_start: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=crime_access.REASON_MAX)] = "",
) -> Response:
    form = {"week_start": week_start, "reason": reason}
    try:
        try:
            monday = date.fromisoformat(week_start.strip())
        except ValueError as exc:
            raise ValidationError("week_start", "Enter the Monday the week starts on") from exc
        with c.uow() as uow:
            result = overviews.generate_weekly(
                uow,
                principal,
                c.settings,
                person_id=person_id,
                week_start=monday,
                reason=reason,
            )
            uow.commit()
    except ValidationError as exc:
        return _person_page(request, c, principal, person_id, _errors(exc), form)
    return _page(
        request,
        c,
        principal,
        "evidence/ready.html",
        title="Weekly overview ready",
        person_id=person_id,
        detail=f"Week beginning Monday {monday.strftime('%d %B %Y')}",
        sha256=result.sha256,
        links=[
            (
                "Read the overview (HTML)",
                _with(f"/evidence/weekly/{result.id}", reason=reason, format="html"),
            ),
            (
                "Download the PDF",
                _with(f"/evidence/weekly/{result.id}", reason=reason, format="pdf"),
            ),
        ],
    )


@router.get("/weekly/{weekly_id}")
def weekly_file(
    request: Request,
    weekly_id: RowId,
    c: ContainerDep,
    principal: PagePrincipal,
    format: str = "html",
    reason: str = "",
) -> Response:
    try:
        with c.uow() as uow:
            summary, result = overviews.get_weekly(uow, principal, weekly_id, reason)
            uow.commit()  # the audited view
    except ValidationError as exc:
        return _reason_page(
            request,
            c,
            principal,
            title=f"Weekly overview {weekly_id}",
            action=f"/evidence/weekly/{weekly_id}",
            hidden={"format": format},
            errors=_errors(exc) if reason else None,
        )
    if format == "pdf":
        name = f"weekly-overview-{summary['person_id']}-{summary['week_start']}.pdf"
        return api.attachment(result.pdf, "application/pdf", name)
    # The overview is a standalone document (inline CSS and SVG only); shown as it was stored.
    return HTMLResponse(
        result.html,
        headers={"Cache-Control": "no-store", "Content-Security-Policy": "script-src 'none'"},
    )


@router.post("/persons/{person_id}/packs", response_class=HTMLResponse)
def create_pack(
    request: Request,
    person_id: str,
    c: ContainerDep,
    principal: PagePrincipal,
    violation_id: Annotated[str, Form(max_length=80)] = "",
    reason: Annotated[str, Form(max_length=crime_access.REASON_MAX)] = "",
) -> Response:
    form = {"violation_id": violation_id, "pack_reason": reason}
    try:
        if not violation_id.strip():
            raise ValidationError("violation_id", "Choose the violation the pack is for")
        with c.uow() as uow:
            result = packs.create_pack(
                uow,
                principal,
                c.settings,
                person_id=person_id,
                violation_id=violation_id.strip(),
                reason=reason,
            )
            uow.commit()
    except ValidationError as exc:
        errors = [("pack_reason" if f == "reason" else f, r) for f, r in _errors(exc)]
        return _person_page(request, c, principal, person_id, errors, form)
    key = packs.signing_key(c.settings)
    return _page(
        request,
        c,
        principal,
        "evidence/ready.html",
        title="Evidence pack signed",
        person_id=person_id,
        detail=f"Violation {violation_id.strip()}, signed by {key.signer} (key {key.key_id})",
        sha256=result.sha256,
        links=[
            (
                "Download the PDF (for people)",
                _with(f"/evidence/packs/{result.id}", reason=reason, format="pdf"),
            ),
            (
                "Download the signed JSON (for machines)",
                _with(f"/evidence/packs/{result.id}", reason=reason, format="json"),
            ),
        ],
        verify=True,
    )


@router.get("/packs/{pack_id}")
def pack_file(
    request: Request,
    pack_id: RowId,
    c: ContainerDep,
    principal: PagePrincipal,
    format: str = "pdf",
    reason: str = "",
) -> Response:
    try:
        return api.pack_file(c, principal, pack_id, "json" if format == "json" else "pdf", reason)
    except ValidationError as exc:
        return _reason_page(
            request,
            c,
            principal,
            title=f"Evidence pack {pack_id}",
            action=f"/evidence/packs/{pack_id}",
            hidden={"format": format},
            errors=_errors(exc) if reason else None,
        )


@router.get("/persons/{person_id}/trail")
def trail_file(
    request: Request,
    person_id: str,
    c: ContainerDep,
    principal: PagePrincipal,
    start: str = "",
    end: str = "",
    format: str = "geojson",
    reason: str = "",
) -> Response:
    """Trail export from the person page; times are entered in local time."""
    tz = ZoneInfo(c.settings.timezone)
    form = {"trail_start": start, "trail_end": end, "format": format, "trail_reason": reason}
    try:
        errors: Errors = []
        times = {}
        for field, value in (("trail_start", start), ("trail_end", end)):
            try:
                times[field] = datetime.fromisoformat(value).replace(tzinfo=tz)
            except ValueError:
                errors.append((field, "Enter a date and time"))
        if errors:
            return _person_page(request, c, principal, person_id, errors, form)
        return api.trail_export(
            c, principal, person_id, format, times["trail_start"], times["trail_end"], reason
        )
    except ValidationError as exc:
        renamed = {"reason": "trail_reason", "start": "trail_start", "end": "trail_end"}
        errors = [(renamed.get(f, f), r) for f, r in _errors(exc)]
        return _person_page(request, c, principal, person_id, errors, form)


# ---------------------------------------------------------------------------------------------
# Programme statistics


@router.get("/statistics", response_class=HTMLResponse)
def statistics_page(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    start: str = "",
    end: str = "",
    reason: str = "",
) -> Response:
    today = c.clock.now().astimezone(ZoneInfo(c.settings.timezone)).date()
    form = {
        "start": start or today.replace(day=1).isoformat(),
        "end": end or (today + timedelta(days=1)).isoformat(),
        "reason": reason,
    }
    if not reason:
        return _page(request, c, principal, "evidence/statistics.html", form=form, result=None)
    try:
        try:
            first = date.fromisoformat(form["start"])
            last = date.fromisoformat(form["end"])
        except ValueError as exc:
            raise ValidationError("start", "Enter dates as YYYY-MM-DD") from exc
        with c.uow() as uow:
            result = stats.programme_statistics(
                uow, principal, first, last, reason, c.settings.timezone
            )
            uow.commit()  # the audited report
    except ValidationError as exc:
        return _page(
            request,
            c,
            principal,
            "evidence/statistics.html",
            status_code=422,
            form=form,
            result=None,
            errors=_errors(exc),
        )
    return _page(
        request,
        c,
        principal,
        "evidence/statistics.html",
        form=form,
        result=result,
        charts=stats.charts(result),
        csv_link=_with("/api/evidence/statistics", **{**form, "format": "csv"}),
    )
