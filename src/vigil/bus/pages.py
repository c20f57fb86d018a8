"""Admin page: messages the bus could not hand to their handler, and replaying them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.bus import dead_letters
from vigil.security import permissions
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.params import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

NAVIGATION = [
    NavItem(
        "Dead letters",
        "/admin/dead-letters",
        permissions.DEAD_LETTERS,
        "Messages a part of Vigil could not take, kept to be replayed once it can.",
    ),
]


@router.get("/admin/dead-letters", response_class=HTMLResponse)
def dead_letters_page(request: Request, principal: PagePrincipal, c: ContainerDep) -> Response:
    with c.uow() as uow:
        letters = dead_letters.list_dead_letters(uow, principal)
    return render(request, "bus/dead_letters.html", {"letters": letters}, principal=principal)


@router.post("/admin/dead-letters/{letter_id}/replay")
def replay(letter_id: RowId, principal: PagePrincipal, c: ContainerDep) -> Response:
    with c.uow() as uow:
        dead_letters.request_replay(uow, principal, letter_id)
        uow.commit()
    return RedirectResponse("/admin/dead-letters", status_code=303)
