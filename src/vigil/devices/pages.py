"""Staff page: the device inventory (national roles) or the devices of one's caseload."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.devices import service
from vigil.security import permissions
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

NAVIGATION = [
    NavItem(
        "Devices",
        "/devices",
        permissions.DEVICES_READ,
        "Tags, home units and protected persons' phones.",
    ),
]


@router.get("/devices", response_class=HTMLResponse)
def devices_page(request: Request, principal: PagePrincipal, c: ContainerDep) -> Response:
    with c.uow() as uow:
        found = service.list_devices(uow, principal)
    # The latest reporting command per device (adaptive reporting, docs/engine.md).
    queue = c.device_commands
    reporting = {
        d.external_id: history[-1] for d in found if (history := queue.history(d.external_id))
    }
    return render(
        request,
        "devices/devices.html",
        {"devices": found, "reporting": reporting},
        principal=principal,
    )
