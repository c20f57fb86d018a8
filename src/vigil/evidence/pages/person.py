"""A person's evidence: weekly overviews, evidence packs and trail exports."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.alerts import alert_reads
from vigil.alerts.alert_reads import AlertRecord
from vigil.bootstrap import Container
from vigil.errors import ValidationError
from vigil.evidence import (
    api,
    crime_access,
    exports,
    overviews,
    packs,
)
from vigil.evidence.pages.shared import Errors, _errors, _page, _reason_page, _with
from vigil.evidence.weekly import monday_of
from vigil.security import permissions
from vigil.security.model import Principal
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.params import RowId

router = APIRouter(prefix="/evidence", include_in_schema=False)


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
    episodes: dict[str, AlertRecord] = {}
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
