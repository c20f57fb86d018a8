"""The evidence hub: where each role's evidence work starts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.evidence.pages.shared import _page
from vigil.security import permissions
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.templating import path_segment

router = APIRouter(prefix="/evidence", include_in_schema=False)
NAVIGATION = [
    NavItem(
        "Evidence and overviews",
        "/evidence",
        permissions.PERSON_EVIDENCE,
        "Weekly movement overviews, violation evidence packs and trail exports for a person.",
    ),
]


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
