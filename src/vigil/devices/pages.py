"""Staff page: the device inventory (national roles) or the devices of one's caseload."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.alerts.queue import age_text
from vigil.devices import service
from vigil.devices.last_contact import last_contacts
from vigil.people import service as people
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
        contacts = last_contacts(uow, found)
        persons = people.persons_by_ids(uow, sorted({d.person_id for d in found if d.person_id}))
    # The latest reporting command per device (adaptive reporting, docs/engine.md).
    queue = c.device_commands
    reporting = {
        d.external_id: history[-1] for d in found if (history := queue.history(d.external_id))
    }
    now = c.clock.now()
    values = {
        "devices": found,
        "reporting": reporting,
        "persons": persons,
        "contacts": contacts,
        "ages": {ext: age_text(seen.last_contact, now) for ext, seen in contacts.items()},
        "tz": c.settings.tz,
    }
    return render(request, "devices/devices.html", values, principal=principal)
