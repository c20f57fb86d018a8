"""The home page for each role, and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import text

from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, principal: PagePrincipal) -> Response:
    items = [item for item in request.app.state.navigation if item.visible_to(principal)]
    return render(request, "home.html", {"items": items}, principal=principal)


@router.get("/healthz")
def health(c: ContainerDep) -> dict[str, str]:
    with c.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"status": "ok"}
