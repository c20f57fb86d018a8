"""Harm matrix pages, for police analysts only: matrix, perpetrator, import, reviews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.bootstrap import Container
from vigil.errors import NotFound, ValidationError
from vigil.harm import reviews as tasking_reviews
from vigil.harm.agencies import AGENCY_LABELS
from vigil.harm.decisions import merge, split
from vigil.harm.incident_import import import_incidents
from vigil.harm.linkage import LinkEvidence, WaterfallStep, waterfall
from vigil.harm.matrix import dropped_out, forces_in_runs, matrix
from vigil.harm.model import BAND_LABELS, Band, Movement, PartyRole, Tactic
from vigil.harm.person_view import display_names, person_incidents, person_standing
from vigil.harm.records import person_records, score_history
from vigil.harm.reviews import MAX_ACTIONS, MAX_OWNER, list_reviews
from vigil.harm.runs import STORE_LIMIT, as_of_start, compute_run, get_run, list_runs
from vigil.links import story as links_story
from vigil.security import permissions
from vigil.security.model import Principal
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.params import RowId
from vigil.web.templating import path_segment, render

router = APIRouter(prefix="/harm", include_in_schema=False)
NAVIGATION = [
    NavItem(
        "Perpetrator matrix",
        "/harm",
        permissions.HARM_MATRIX,
        "Ranked high-harm perpetrators with explanations, and MATAC tasking reviews.",
    )
]
MAX_UPLOAD = 200 * 1024 * 1024


def _context(**values: object) -> dict[str, object]:
    return {
        "band_labels": {b.value: label for b, label in BAND_LABELS.items()},
        "bands": [b.value for b in Band],
        "tactics": [t.value for t in Tactic],
        "agencies": [(a.value, label) for a, label in AGENCY_LABELS.items()],
        "movement": Movement,
        **values,
    }


@router.get("", response_class=HTMLResponse)
def matrix_page(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    run: RowId | None = None,
    force: str | None = None,
    band: str | None = None,
    serial: bool = False,
    escalating: bool = False,
    top: int = 50,
) -> Response:
    return _matrix(request, c, principal, run, force, band, serial, escalating, top)


def _no_run_yet(
    request: Request, principal: Principal, errors: list[tuple[str, str]], as_of: str
) -> Response:
    return render(
        request,
        "harm/matrix.html",
        _context(summary=None, runs=[], errors=errors, as_of=as_of),
        principal=principal,
        status_code=422 if errors else 200,
    )


def _filters(
    force: str | None, band: str | None, serial: bool, escalating: bool, top: int
) -> dict[str, object]:
    """The matrix's filters as the form shows them (an empty field means "any")."""
    return {
        "force": force or "",
        "band": band or "",
        "serial": serial,
        "escalating": escalating,
        "top": top,
    }


def _matrix(
    request: Request,
    c: Container,
    principal: Principal,
    run: RowId | None = None,
    force: str | None = None,
    band: str | None = None,
    serial: bool = False,
    escalating: bool = False,
    top: int = 50,
    errors: list[tuple[str, str]] | None = None,
    as_of: str = "",
) -> Response:
    errors = errors or []
    status_code = 422 if errors else 200
    top = max(1, min(top, STORE_LIMIT))
    with c.uow() as uow:
        try:
            summary = get_run(uow, principal, run)
        except NotFound:
            if run is not None:
                raise
            return _no_run_yet(request, principal, errors, as_of)
        rows = matrix(
            uow,
            principal,
            summary.id,
            force=force or None,
            band=band or None,
            serial_only=serial,
            escalating_only=escalating,
            top=top,
        )
        dropped = dropped_out(uow, principal, summary.id, force=force or None, top=top)
        forces = forces_in_runs(uow, principal, summary.id)
        runs = list_runs(uow, principal)
        names = display_names(uow, principal, [r.person_id for r in rows] + [p for p, _ in dropped])
    return render(
        request,
        "harm/matrix.html",
        _context(
            summary=summary,
            rows=rows,
            dropped=dropped,
            forces=forces,
            runs=runs,
            filters=_filters(force, band, serial, escalating, top),
            counts={m: sum(1 for r in rows if r.movement is m) for m in Movement},
            names=names,
            errors=errors,
            as_of=as_of,
        ),
        principal=principal,
        status_code=status_code,
    )


@router.post("/runs")
def run_now(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    as_of: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        day = date.fromisoformat(as_of.strip()) if as_of.strip() else c.clock.now().date()
    except ValueError:
        error = ("as_of", "Enter the date as YYYY-MM-DD, for example 2026-03-23")
        return _matrix(request, c, principal, errors=[error], as_of=as_of)
    with c.uow() as uow:
        run_id = compute_run(uow, as_of=as_of_start(day), principal=principal)
        uow.commit()
    return RedirectResponse(f"/harm?run={run_id}", status_code=303)


@router.get("/person/{person_id:path}", response_class=HTMLResponse)
def person_page(
    request: Request, person_id: str, c: ContainerDep, principal: PagePrincipal
) -> Response:
    return _person(request, c, principal, person_id)


@dataclass(frozen=True)
class Bar:
    """A waterfall bar placed on the chart (SVG units; the chart is drawn on the server)."""

    step: WaterfallStep
    x: float
    width: float
    y: float


WATERFALL_LEFT, WATERFALL_WIDTH, WATERFALL_ROW = 10.0, 480.0, 28.0


def _waterfall_bars(evidence: LinkEvidence) -> tuple[list[Bar], float]:
    """Bars of one link's waterfall and where zero falls on the chart."""
    steps = waterfall(evidence)
    values = [0.0] + [v for step in steps for v in (step.start, step.end)]
    lo, hi = min(values), max(values)
    scale = WATERFALL_WIDTH / (hi - lo or 1.0)
    bars = [
        Bar(
            step,
            WATERFALL_LEFT + (min(step.start, step.end) - lo) * scale,
            max(abs(step.end - step.start) * scale, 1.0),
            i * WATERFALL_ROW,
        )
        for i, step in enumerate(steps)
    ]
    return bars, WATERFALL_LEFT - lo * scale


def _person(
    request: Request,
    c: Container,
    principal: Principal,
    person_id: str,
    errors: list[tuple[str, str]] | None = None,
    review: dict[str, str] | None = None,
) -> Response:
    with c.uow() as uow:
        records = person_records(uow, person_id, principal)
        history = score_history(uow, principal, person_id)
        reviews = list_reviews(uow, principal, person_id)
        incidents = person_incidents(uow, principal, person_id)
        standing = person_standing(uow, principal, person_id)
        names = display_names(uow, principal, [person_id, *(r.person_id for r in reviews)])
        # Whether the monitoring caseload tags him, and under which order (audited).
        tagging = links_story.tagging_for_matrix_person(uow, principal, person_id)
        uow.commit()  # reading victims' details and his tagging is audited
    return render(
        request,
        "harm/person.html",
        _context(
            person_id=person_id,
            shown_name=names.get(person_id, person_id),
            records=records,
            waterfalls={r.identity_id: _waterfall_bars(r.evidence) for r in records if r.evidence},
            waterfall_row=WATERFALL_ROW,
            history=history,
            reviews=reviews,
            incidents=incidents,
            standing=standing,
            tagging=tagging,
            names=names,
            today=c.clock.now().date().isoformat(),
            errors=errors or [],
            review=review or {},
        ),
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.post("/reviews")
def create_review(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    person_id: Annotated[str, Form(max_length=40)],
    tactic: Annotated[str, Form(max_length=20)] = "",
    actions: Annotated[str, Form(max_length=MAX_ACTIONS + 1)] = "",
    owner: Annotated[str, Form(max_length=MAX_OWNER + 1)] = "",
    agency: Annotated[str, Form(max_length=30)] = "",
    review_date: Annotated[str, Form(max_length=20)] = "",
    next_review_date: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    entered = {
        "tactic": tactic,
        "actions": actions,
        "owner": owner,
        "agency": agency,
        "review_date": review_date,
        "next_review_date": next_review_date,
    }
    try:
        with c.uow() as uow:
            tasking_reviews.create_review(
                uow,
                person_id=person_id,
                tactic=tactic,
                actions=actions,
                owner=owner,
                agency=agency,
                review_date=review_date,
                next_review_date=next_review_date or None,
                principal=principal,
            )
            uow.commit()
    except ValidationError as exc:
        errors = [
            (e.field, f"{e.field.replace('_', ' ').capitalize()}: {e.reason}") for e in exc.errors
        ]
        return _person(request, c, principal, person_id, errors=errors, review=entered)
    return RedirectResponse("/harm/reviews", status_code=303)


@router.post("/reviews/{review_id}/close")
def close_review(review_id: RowId, c: ContainerDep, principal: PagePrincipal) -> Response:
    with c.uow() as uow:
        tasking_reviews.close_review(uow, review_id, principal)
        uow.commit()
    return RedirectResponse("/harm/reviews", status_code=303)


@router.get("/reviews", response_class=HTMLResponse)
def reviews_page(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    with c.uow() as uow:
        reviews = list_reviews(uow, principal)
        names = display_names(uow, principal, [r.person_id for r in reviews])
    return render(
        request, "harm/reviews.html", _context(reviews=reviews, names=names), principal=principal
    )


@router.post("/decisions")
def decide(
    c: ContainerDep,
    principal: PagePrincipal,
    kind: Annotated[str, Form(max_length=10)],
    identity_a: Annotated[RowId, Form()],
    reason: Annotated[str, Form(max_length=1000)] = "",
    identity_b: Annotated[RowId | None, Form()] = None,
) -> Response:
    with c.uow() as uow:
        if kind == "merge":
            if identity_b is None:
                raise ValidationError("identity_b", "name the record to merge with")
            key = merge(
                uow,
                c.cipher,
                role=PartyRole.SUSPECT,
                identity_a=identity_a,
                identity_b=identity_b,
                reason=reason,
                principal=principal,
            )
        elif kind == "split":
            key = split(
                uow,
                c.cipher,
                role=PartyRole.SUSPECT,
                identity_id=identity_a,
                reason=reason,
                principal=principal,
            )
        else:
            raise ValidationError("kind", "must be merge or split")
        uow.commit()
    return RedirectResponse(f"/harm/person/{path_segment(key)}", status_code=303)


@router.get("/import", response_class=HTMLResponse)
def import_form(request: Request, principal: PagePrincipal) -> Response:
    return render(request, "harm/import.html", _context(report=None), principal=principal)


@router.post("/import", response_class=HTMLResponse)
async def import_upload(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if file is None or not file.filename:
        return render(
            request,
            "harm/import.html",
            _context(report=None, errors=[("file", "Choose a CSV file of incidents to import")]),
            principal=principal,
            status_code=422,
        )
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise ValidationError("file", "is larger than 200 MB; use vigil harm import")
    with c.uow() as uow:
        try:
            report = import_incidents(
                uow,
                c.cipher,
                content,
                filename=file.filename or "upload.csv",
                principal=principal,
            )
        except ValidationError as exc:
            return render(
                request,
                "harm/import.html",
                _context(
                    report=None, errors=[(e.field, f"{e.field}: {e.reason}") for e in exc.errors]
                ),
                principal=principal,
                status_code=422,
            )
        uow.commit()
    return render(request, "harm/import.html", _context(report=report), principal=principal)
