"""The home page for each role."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.web.auth import PagePrincipal
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, principal: PagePrincipal) -> Response:
    items = [item for item in request.app.state.navigation if item.visible_to(principal)]
    return render(request, "home.html", {"items": items}, principal=principal)
