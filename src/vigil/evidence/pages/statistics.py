"""Programme statistics, with CSV export."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.errors import ValidationError
from vigil.evidence import (
    stats,
)
from vigil.evidence.pages.shared import _errors, _page, _with
from vigil.security import permissions
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem

router = APIRouter(prefix="/evidence", include_in_schema=False)
NAVIGATION = [
    NavItem(
        "Programme statistics",
        "/evidence/statistics",
        permissions.PROGRAMME_STATISTICS,
        "Wearers, violations, alert outcomes, time to acknowledge and recalls, with CSV export.",
    ),
]


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
