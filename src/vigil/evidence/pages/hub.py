"""The evidence hub: where each role's evidence work starts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.errors import ValidationError
from vigil.evidence.pages.shared import _page
from vigil.people.finding import find_persons
from vigil.security import permissions
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem

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
def hub(request: Request, c: ContainerDep, principal: PagePrincipal, person: str = "") -> Response:
    found, errors = None, []
    if person.strip():
        with c.uow() as uow:
            try:
                found = find_persons(uow, principal, person)
            except ValidationError as exc:
                errors = [(e.field, e.reason) for e in exc.errors]
        if found is not None and len(found) == 1:
            return RedirectResponse(f"/evidence/persons/{found[0].id}", status_code=303)
        if found == []:
            errors = [
                ("person", "No one in your caseload has that name, CRN, PNC id or prison number")
            ]
    return _page(
        request,
        c,
        principal,
        "evidence/hub.html",
        status_code=400 if errors else 200,
        crime=principal.may(permissions.CRIME_MATCHING),
        persons=principal.may(permissions.PERSON_EVIDENCE),
        statistics=principal.may(permissions.PROGRAMME_STATISTICS),
        matches=found or [],
        person=person,
        errors=errors,
    )
