"""UPCS case handler's screens: the case list, finding a case, one case and the actions on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.bootstrap import Container
from vigil.contact import (
    attempts,
    bar_request,
    bars,
    casework,
    notifications,
    register,
)
from vigil.contact.model import (
    CHOICE_LABELS,
    OPEN_STATUSES,
    CaseStatus,
)
from vigil.errors import ValidationError
from vigil.links import story
from vigil.web.auth import (
    ContainerDep,
    PagePrincipal,
)
from vigil.web.params import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/contact/cases", response_class=HTMLResponse)
def cases(
    request: Request, c: ContainerDep, principal: PagePrincipal, status: str | None = None
) -> Response:
    chosen = CaseStatus(status) if status in {s.value for s in CaseStatus} else None
    with c.uow() as uow:
        found = casework.list_cases(uow, c.cipher, principal, status=chosen)
        alerts = attempts.open_alerts(uow, principal)
        uow.commit()
    return render(
        request,
        "contact/cases.html",
        {
            "cases": found,
            "alerts": alerts,
            "statuses": list(CaseStatus),
            "chosen": chosen,
            "labels": CHOICE_LABELS,
            # Past the decision time the public form's confirmation promised, still undecided.
            "decision_days": c.settings.contact_decision_days,
            "open_statuses": OPEN_STATUSES,
        },
        principal=principal,
    )


@router.get("/contact/cases/find", response_class=HTMLResponse)
def find(
    request: Request, c: ContainerDep, principal: PagePrincipal, reference: str = ""
) -> Response:
    with c.uow() as uow:
        case_id = casework.find_case(uow, principal, reference[:20])
        uow.commit()
    return RedirectResponse(f"/contact/cases/{case_id}", status_code=303)


@router.get("/contact/cases/{case_id}", response_class=HTMLResponse)
def case(request: Request, c: ContainerDep, principal: PagePrincipal, case_id: RowId) -> Response:
    return _case_page(request, c, principal, case_id, [])


def _case_page(
    request: Request,
    c: Container,
    principal: Any,
    case_id: RowId,
    errors: list[tuple[str, str]],
    status_code: int = 200,
) -> Response:
    with c.uow() as uow:
        detail = casework.get_case(uow, c.cipher, principal, case_id)
        found = register.candidates(uow, c.cipher, principal, case_id)
        notices = notifications.pending_notifications(uow, c.cipher, case_id)
        # Whether the barred prisoner is tagged now (after release), and who manages him.
        number = detail.matched_prison_number
        tagging = story.tagging_for_prisoner(uow, principal, number) if number else None
        uow.commit()
    return render(
        request,
        "contact/case.html",
        {
            "case": detail,
            "tagging": tagging,
            "candidates": found,
            "errors": errors,
            "labels": CHOICE_LABELS,
            "notifications": notices,
            "today": c.clock.now().date(),
        },
        principal=principal,
        status_code=status_code,
    )


FormValue = Annotated[str, Form(max_length=5000)]


async def _case_action(
    request: Request,
    c: Container,
    principal: Any,
    case_id: RowId,
    action: Callable[[], Awaitable[None] | None],
) -> Response:
    try:
        result = action()
        if result is not None:
            await result
    except ValidationError as exc:
        return _case_page(
            request, c, principal, case_id, [(e.field, e.reason) for e in exc.errors], 400
        )
    return RedirectResponse(f"/contact/cases/{case_id}", status_code=303)


@router.post("/contact/cases/{case_id}/assign")
async def assign(
    request: Request, c: ContainerDep, principal: PagePrincipal, case_id: RowId
) -> Response:
    def act() -> None:
        with c.uow() as uow:
            casework.assign(uow, principal, case_id, None)
            uow.commit()

    return await _case_action(request, c, principal, case_id, act)


@router.post("/contact/cases/{case_id}/notes")
async def note(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    case_id: RowId,
    text: FormValue = "",
) -> Response:
    def act() -> None:
        with c.uow() as uow:
            casework.add_note(uow, c.cipher, principal, case_id, text)
            uow.commit()

    return await _case_action(request, c, principal, case_id, act)


@router.post("/contact/cases/{case_id}/match")
async def match(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    case_id: RowId,
    prisoner_id: Annotated[RowId, Form()],
) -> Response:
    def act() -> None:
        with c.uow() as uow:
            register.match_prisoner(uow, c.cipher, principal, case_id, prisoner_id)
            uow.commit()

    return await _case_action(request, c, principal, case_id, act)


@router.post("/contact/cases/{case_id}/bar")
async def bar(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    case_id: RowId,
    scope: FormValue = "",
    prison_number: FormValue = "",
    reason: FormValue = "",
    review_date: FormValue = "",
) -> Response:
    def act() -> None:
        parsed = bar_request.parse_bar(
            {
                "scope": scope,
                "prison_number": prison_number or None,
                "reason": reason,
                "review_date": review_date or None,
            },
            today=c.clock.now().date(),
        )
        with c.uow() as uow:
            bars.bar(uow, c.cipher, principal, case_id, parsed, index=c.enforcement_index)
            uow.commit()

    return await _case_action(request, c, principal, case_id, act)


@router.post("/contact/cases/{case_id}/decline")
async def decline(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    case_id: RowId,
    reason: FormValue = "",
) -> Response:
    def act() -> None:
        with c.uow() as uow:
            casework.decline(uow, c.cipher, principal, case_id, reason)
            uow.commit()

    return await _case_action(request, c, principal, case_id, act)


@router.post("/contact/cases/{case_id}/information")
async def information(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    case_id: RowId,
    question: FormValue = "",
) -> Response:
    def act() -> None:
        with c.uow() as uow:
            casework.ask_for_information(uow, c.cipher, principal, case_id, question)
            uow.commit()

    return await _case_action(request, c, principal, case_id, act)


@router.post("/contact/cases/{case_id}/bars/{bar_id}/lift")
async def lift(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    case_id: RowId,
    bar_id: RowId,
    reason: FormValue = "",
) -> Response:
    def act() -> None:
        with c.uow() as uow:
            bars.lift_bar(uow, c.cipher, principal, bar_id, reason, index=c.enforcement_index)
            uow.commit()

    return await _case_action(request, c, principal, case_id, act)


@router.post("/contact/alerts/{alert_id}/acknowledge")
def acknowledge(c: ContainerDep, principal: PagePrincipal, alert_id: RowId) -> Response:
    with c.uow() as uow:
        attempts.acknowledge_alert(uow, principal, alert_id)
        uow.commit()
    return RedirectResponse("/contact/cases", status_code=303)
