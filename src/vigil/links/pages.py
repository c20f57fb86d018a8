"""Links pages: the release plan, and the forms that find, confirm and undo a person's links
(shown on the person's page, see templates/links/_story.html)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.errors import ValidationError
from vigil.links import release_planning, service
from vigil.security import permissions
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.params import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

NAVIGATION = [
    NavItem(
        "Release planning",
        "/release-plan",
        permissions.RELEASE_PLANNING,
        "Prisoners with contact bars due for release, with a zone proposed around each "
        "barred address.",
    ),
]
WEEK_CHOICES = (4, 8, 12, 26)


@router.get("/release-plan", response_class=HTMLResponse)
def release_plan_page(
    request: Request,
    principal: PagePrincipal,
    c: ContainerDep,
    weeks: Annotated[str, Query(max_length=3)] = "12",
) -> Response:
    errors = []
    chosen = int(weeks) if weeks.isascii() and weeks.isdigit() else 0
    with c.uow() as uow:
        try:
            plan = release_planning.release_plan(uow, c.cipher, principal, chosen)
        except ValidationError as exc:
            errors = [(e.field, e.reason) for e in exc.errors]
            chosen = 12
            plan = release_planning.release_plan(uow, c.cipher, principal, chosen)
        uow.commit()  # the audited view
    values = {
        "plan": plan,
        "weeks": chosen,
        "week_choices": WEEK_CHOICES,
        "errors": errors,
        "today": c.clock.now().date(),
        "can_write_orders": principal.may(permissions.ORDERS_WRITE),
    }
    status_code = 400 if errors else 200
    return render(
        request, "links/release_plan.html", values, principal=principal, status_code=status_code
    )


@router.post("/persons/{person_id}/links/find")
def find_links(person_id: RowId, principal: PagePrincipal, c: ContainerDep) -> Response:
    with c.uow() as uow:
        report = service.find_person_links(uow, principal, person_id)
        uow.commit()
    found = report.confirmed + report.proposed
    return RedirectResponse(f"/persons/{person_id}?links_found={found}#links", status_code=303)


@router.post("/links/{link_id}/confirm")
async def confirm_link(
    request: Request, link_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    form = await request.form()
    with c.uow() as uow:
        link = service.confirm_link(uow, principal, link_id)
        uow.commit()
    back = _back(form.get("next"), f"/persons/{link.person_id}")
    return RedirectResponse(f"{back}?link=confirmed#links", status_code=303)


@router.post("/links/{link_id}/undo")
async def undo_link(
    request: Request, link_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    form = await request.form()
    reason = form.get("reason")
    with c.uow() as uow:
        link = service.undo_link(uow, principal, link_id, reason if isinstance(reason, str) else "")
        uow.commit()
    back = _back(form.get("next"), f"/persons/{link.person_id}")
    return RedirectResponse(f"{back}?link=undone#links", status_code=303)


def _back(raw: object, fallback: str) -> str:
    """The page the form came from (a case or a matrix person's page), if it is one of ours."""
    if isinstance(raw, str) and _LOCAL_PATH.fullmatch(raw):
        return raw
    return fallback


# A path on this site: no scheme, no host ("//evil"), no query to smuggle, plain characters.
_LOCAL_PATH = re.compile(r"/(?!/)[A-Za-z0-9/_\-]{0,200}")
