"""Staff page: devices the doors refused, so the monitoring centre finds a mis-registered tag."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.gateways import quarantine
from vigil.security import permissions
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

NAVIGATION = [
    NavItem(
        "Refused devices",
        "/devices/refused",
        permissions.QUARANTINE_READ,
        "Tags the device doors turned away: not registered, or not fitted when they reported.",
    ),
]

WINDOW = timedelta(days=7)


@router.get("/devices/refused", response_class=HTMLResponse)
def refused_page(request: Request, principal: PagePrincipal, c: ContainerDep) -> Response:
    with c.uow() as uow:
        found = quarantine.by_device(uow, principal, c.clock.now() - WINDOW)
    return render(
        request,
        "gateways/refused.html",
        {"refused": found, "days": WINDOW.days},
        principal=principal,
    )
