"""Crime matching pages: upload a batch, run a match, review and export what was confirmed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.bootstrap import Container
from vigil.errors import ValidationError
from vigil.evidence import (
    api,
    crime_access,
    crime_matching,
    crime_upload,
)
from vigil.evidence.crimes import CRIME_TYPES
from vigil.evidence.pages.shared import Errors, _errors, _page, _reason_page, _with
from vigil.security import permissions
from vigil.security.model import Principal
from vigil.text import finite_number
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.params import RowId

router = APIRouter(prefix="/evidence", include_in_schema=False)
NAVIGATION = [
    NavItem(
        "Crime matching",
        "/evidence/crime",
        permissions.CRIME_MATCHING,
        "Upload a crime batch, match it against tagged persons' trails and review the matches.",
    ),
]


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
        crime_types=sorted(CRIME_TYPES.items(), key=lambda item: item[1]),
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
    maps = {m["id"]: crime_matching.match_map_svg(m, radius) for m in run["results"]}
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
        maps=maps,
        reason=reason,
        counts=counts,
        can_review=principal.may(permissions.MATCH_REVIEW),
        can_see_nationwide=principal.may(permissions.CRIME_MATCHING_NATIONWIDE),
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
