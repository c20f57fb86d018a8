"""Staff pages: the caseload, a person, and a protected person's details (each view audited)."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.devices import service as devices
from vigil.orders import service as orders
from vigil.orders.model import PILOT_LABELS, OrderStatus
from vigil.people import service
from vigil.people.model import PROTECTED_DETAIL_ROLES
from vigil.security.model import REGISTRY_ROLES, Role
from vigil.web.auth import ContainerDep, PagePrincipal
from vigil.web.navigation import NavItem
from vigil.web.params import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

NAVIGATION = [
    NavItem(
        "Caseload",
        "/caseload",
        REGISTRY_ROLES,
        "Persons you manage or police: risk, orders and devices.",
    ),
]
RISK_TAGS = {"low": "green", "medium": "yellow", "high": "orange", "very_high": "red"}


@router.get("/caseload", response_class=HTMLResponse)
def caseload(request: Request, principal: PagePrincipal, c: ContainerDep) -> Response:
    with c.uow() as uow:
        persons = service.list_persons(uow, principal)
        by_person_orders = defaultdict(list)
        for order in orders.list_orders(uow, principal):
            by_person_orders[order.person_id].append(order)
        by_person_devices = defaultdict(list)
        for device in devices.list_devices(uow, principal):
            if device.person_id is not None and device.current is not None:
                by_person_devices[device.person_id].append(device)
    rows = []
    for person in persons:
        person_orders = by_person_orders.get(person.id, [])
        current = next((o for o in person_orders if o.status is OrderStatus.ACTIVE), None)
        current = current or (person_orders[-1] if person_orders else None)
        rows.append(
            {
                "person": person,
                "order": current,
                "devices": [
                    d
                    for d in by_person_devices.get(person.id, [])
                    if d.current and d.current.holder_kind.value == "person"
                ],
            }
        )
    return render(
        request,
        "people/caseload.html",
        {"rows": rows, "risk_tags": RISK_TAGS, "pilot_labels": PILOT_LABELS},
        principal=principal,
    )


@router.get("/persons/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request, person_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    with c.uow() as uow:
        person = service.get_person(uow, principal, person_id)
        person_orders = orders.list_orders(uow, principal, person_id)
        person_devices = devices.list_devices(uow, principal, person_id)
        protected = service.protected_person_refs(uow, person_id)
        decisions = orders.list_decisions(uow, principal, person_id)
        officer_names = {o.id: o.name for o in service.list_officers(uow)}
    return render(
        request,
        "people/person.html",
        {
            "person": person,
            "orders": person_orders,
            "devices": person_devices,
            "protected": protected,
            "decisions": decisions,
            "officer_names": officer_names,
            "risk_tags": RISK_TAGS,
            "pilot_labels": PILOT_LABELS,
            "can_write": principal.role in (Role.ADMIN, Role.PROBATION_OFFICER),
            "can_see_details": principal.role in PROTECTED_DETAIL_ROLES,
        },
        principal=principal,
    )


@router.get("/protected-persons/{protected_id}", response_class=HTMLResponse)
def protected_person_page(
    request: Request, protected_id: RowId, principal: PagePrincipal, c: ContainerDep
) -> Response:
    with c.uow() as uow:
        found = service.get_protected_person(uow, principal, c.cipher, protected_id)
        person = service.get_person(uow, principal, found.person_id)
    return render(
        request,
        "people/protected_person.html",
        {"protected": found, "person": person},
        principal=principal,
    )
