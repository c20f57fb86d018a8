"""Contact pages for the case handlers' overview: the security queue and the statistics."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.contact import (
    figures,
    intelligence,
)
from vigil.contact.model import (
    CHOICE_LABELS,
    neutralise_csv_cell,
)
from vigil.security import permissions
from vigil.web.auth import (
    ContainerDep,
    PagePrincipal,
)
from vigil.web.navigation import NavItem
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)


NAVIGATION = [
    NavItem(
        "Contact requests",
        "/contact/cases",
        permissions.CONTACT_CASES,
        "Unwanted prisoner contact: requests, matching, bars and attempted contact.",
    ),
    NavItem(
        "Contact statistics",
        "/contact/statistics",
        permissions.CONTACT_CASES,
        "Requests, time to bar, refused calls and held letters.",
    ),
]


@router.get("/contact/security", response_class=HTMLResponse)
def security(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    with c.uow() as uow:
        entries = intelligence.security_queue(uow, c.cipher, principal)
        uow.commit()
    return render(
        request,
        "contact/security.html",
        {"entries": entries, "labels": CHOICE_LABELS},
        principal=principal,
    )


@router.get("/contact/statistics", response_class=HTMLResponse)
def statistics(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    with c.uow() as uow:
        stats = figures.statistics(uow, principal)
        uow.commit()
    return render(request, "contact/statistics.html", {"rows": stats.rows()}, principal=principal)


@router.get("/contact/statistics.csv")
def statistics_csv(c: ContainerDep, principal: PagePrincipal) -> Response:
    with c.uow() as uow:
        stats = figures.statistics(uow, principal)
        uow.commit()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["measure", "value"])
    for measure, value in stats.rows():
        writer.writerow([neutralise_csv_cell(measure), neutralise_csv_cell(value)])
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"content-disposition": 'attachment; filename="contact-statistics.csv"'},
    )
