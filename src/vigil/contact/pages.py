"""UPCS pages: the public form (no login, one question per page) and the case handler's screens."""

from __future__ import annotations

import csv
import hmac
import io
import secrets
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from vigil.bootstrap import Container
from vigil.contact import (
    attempts,
    bars,
    casework,
    figures,
    intake,
    intelligence,
    journey,
    notifications,
    register,
)
from vigil.contact.model import (
    CONSENT_LABELS,
    CONTACT_KIND_LABELS,
    INTELLIGENCE_LABELS,
    MAX_BODY_BYTES,
    REQUESTER_LABELS,
    CaseStatus,
    RequesterType,
    neutralise_csv_cell,
)
from vigil.contact.request_parsing import parse_request
from vigil.errors import ValidationError
from vigil.security.model import Role
from vigil.text import ascii_digits
from vigil.web.auth import (
    CSRF_FIELD,
    PRE_SESSION_CSRF_COOKIE,
    ContainerDep,
    PagePrincipal,
    pre_session_csrf,
)
from vigil.web.navigation import NavItem
from vigil.web.params import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

NAVIGATION = [
    NavItem(
        "Contact requests",
        "/contact/cases",
        frozenset({Role.UPCS_CASE_HANDLER}),
        "Unwanted prisoner contact: requests, matching, bars and attempted contact.",
    ),
    NavItem(
        "Contact statistics",
        "/contact/statistics",
        frozenset({Role.UPCS_CASE_HANDLER}),
        "Requests, time to bar, refused calls and held letters.",
    ),
]

DRAFT_COOKIE = "vigil_contact_draft"
HONEYPOT = "website"
LABELS = {
    "requester_types": {k.value: v for k, v in REQUESTER_LABELS.items()},
    "consents": {k.value: v for k, v in CONSENT_LABELS.items()},
    "kinds": {k.value: v for k, v in CONTACT_KIND_LABELS.items()},
    "intelligence": {k.value: v for k, v in INTELLIGENCE_LABELS.items()},
}


class Refused(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


# --- public form plumbing -------------------------------------------------------------------


def _public_render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    csrf = pre_session_csrf(request)
    request.state.csrf_token = csrf
    response = render(
        request,
        template,
        {"labels": LABELS, "honeypot": HONEYPOT, **context},
        status_code=status_code,
    )
    response.set_cookie(
        PRE_SESSION_CSRF_COOKIE, csrf, httponly=True, samesite="strict", max_age=7200
    )
    return response


async def _public_form(request: Request, c: Container) -> FormData:
    """The posted form, once it has passed the size limit, rate limit, CSRF and honeypot."""
    declared = request.headers.get("content-length", "0")
    if not ascii_digits(declared) or int(declared) > MAX_BODY_BYTES:
        raise Refused(413, "The form is too large. Shorten your answers and try again.")
    client = request.client.host if request.client else "unknown"
    if not c.public_form_limiter.allow(client):
        raise Refused(429, "You have sent too many forms. Wait 10 minutes and try again.")
    form = await request.form(max_files=0, max_fields=50, max_part_size=MAX_BODY_BYTES)
    expected = request.cookies.get(PRE_SESSION_CSRF_COOKIE, "")
    submitted = form.get(CSRF_FIELD)
    if (
        not expected
        or not isinstance(submitted, str)
        or not hmac.compare_digest(expected, submitted)
    ):
        raise Refused(403, "This page expired. Go back, reload the page and try again.")
    if form.get(HONEYPOT):
        # Only an automated filler sees this field; a person never does.
        raise Refused(400, "Your answers could not be accepted.")
    return form


def _as_dict(form: FormData) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        out[key] = values if key == "kinds" else (values[0] if values else "")
    return out


def _draft(request: Request, c: Container) -> dict[str, Any]:
    with c.uow() as uow:
        return intake.load_draft(uow, c.cipher, request.cookies.get(DRAFT_COOKIE))


def _save(request: Request, c: Container, draft: dict[str, Any], response: Response) -> None:
    token = request.cookies.get(DRAFT_COOKIE) or secrets.token_urlsafe(32)
    with c.uow() as uow:
        intake.save_draft(uow, c.cipher, token, draft)
        uow.commit()
    response.set_cookie(
        DRAFT_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=c.settings.cookies_secure,
        max_age=int(intake.DRAFT_LIFETIME.total_seconds()),
    )


def _question(
    request: Request,
    page: journey.Page,
    errors: journey.Errors,
    status_code: int = 200,
    back: str | None = None,
) -> Response:
    return _public_render(
        request,
        "contact/question.html",
        {
            "page": page,
            "errors": errors,
            "back": back,
            "change": request.query_params.get("change"),
        },
        status_code,
    )


async def _step(
    request: Request,
    c: Container,
    page_of: Callable[[dict[str, Any]], journey.Page],
    save: Callable[[dict[str, Any], journey.Form], journey.Errors],
    next_url: Callable[[dict[str, Any]], str],
) -> Response:
    try:
        form = await _public_form(request, c)
    except Refused as refused:
        return _public_render(
            request, "contact/refused.html", {"message": refused.message}, refused.status_code
        )
    draft = _draft(request, c)
    data = _as_dict(form)
    errors = save(draft, data)
    if errors:
        page = page_of(draft)
        for f in page.fields:
            # Show what was typed, not what was last saved, so nothing has to be typed again.
            if f.kind == "date":
                f.value = {k: data.get(f"{f.name}_{k}", "") for k in ("day", "month", "year")}
            elif f.name in data:
                f.value = data[f.name]
        return _question(request, page, errors, 400)
    target = "/contact/check" if request.query_params.get("change") else next_url(draft)
    response = RedirectResponse(target, status_code=303)
    _save(request, c, draft, response)
    return response


def _needs_consent(draft: dict[str, Any]) -> bool:
    kind = draft.get("requester", {}).get("type")
    return kind not in (RequesterType.VICTIM.value, RequesterType.ON_BEHALF_WITH_CONSENT.value)


# --- public form routes ---------------------------------------------------------------------


@router.get("/contact", response_class=HTMLResponse)
def start(request: Request) -> Response:
    return _public_render(request, "contact/start.html", {})


def _simple_step(
    slug: str,
    page_of: Callable[[dict[str, Any]], journey.Page],
    save: Callable[[dict[str, Any], journey.Form], journey.Errors],
    next_url: Callable[[dict[str, Any]], str],
    back: str,
) -> None:
    def show(request: Request, c: ContainerDep) -> Response:
        return _question(request, page_of(_draft(request, c)), [], back=back)

    async def post(request: Request, c: ContainerDep) -> Response:
        return await _step(request, c, page_of, save, next_url)

    router.add_api_route(f"/contact/{slug}", show, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(f"/contact/{slug}", post, methods=["POST"], response_class=HTMLResponse)


_simple_step(
    "who",
    journey.who_page,
    journey.who_save,
    lambda d: "/contact/consent" if _needs_consent(d) else "/contact/your-details",
    "/contact",
)
_simple_step(
    "consent",
    journey.consent_page,
    journey.consent_save,
    lambda d: "/contact/your-details",
    "/contact/who",
)
_simple_step(
    "your-details",
    journey.details_page,
    journey.details_save,
    lambda d: "/contact/safe-contact",
    "/contact/who",
)
_simple_step(
    "safe-contact",
    journey.safe_page,
    journey.safe_save,
    lambda d: "/contact/person/0",
    "/contact/your-details",
)
_simple_step(
    "contact-so-far",
    journey.contact_page,
    journey.contact_save,
    lambda d: "/contact/check",
    "/contact/prisoner",
)


@router.get("/contact/prisoner", response_class=HTMLResponse)
def prisoner_show(request: Request, c: ContainerDep) -> Response:
    return _question(
        request, journey.prisoner_page(_draft(request, c)), [], back="/contact/another-person"
    )


@router.post("/contact/prisoner", response_class=HTMLResponse)
async def prisoner_post(request: Request, c: ContainerDep) -> Response:
    today = c.clock.now().date()
    return await _step(
        request,
        c,
        journey.prisoner_page,
        lambda d, f: journey.prisoner_save(d, f, today),
        lambda d: "/contact/contact-so-far",
    )


@router.get("/contact/person/{index}", response_class=HTMLResponse)
def person_show(request: Request, c: ContainerDep, index: int) -> Response:
    draft = _draft(request, c)
    index = max(0, min(index, len(draft.get("protected_people", []))))
    return _question(request, journey.person_page(draft, index), [], back="/contact/safe-contact")


@router.post("/contact/person/{index}", response_class=HTMLResponse)
async def person_post(request: Request, c: ContainerDep, index: int) -> Response:
    index = max(0, index)
    return await _step(
        request,
        c,
        lambda d: journey.person_page(d, min(index, len(d.get("protected_people", [])))),
        lambda d, f: journey.person_save(d, f, min(index, len(d.get("protected_people", [])))),
        lambda d: f"/contact/person/{index}/address",
    )


@router.get("/contact/person/{index}/address", response_class=HTMLResponse)
def address_show(request: Request, c: ContainerDep, index: int) -> Response:
    draft = _draft(request, c)
    if index < 0 or index >= len(draft.get("protected_people", [])):
        return RedirectResponse("/contact/person/0", status_code=303)
    return _question(
        request, journey.address_page(draft, index), [], back=f"/contact/person/{index}"
    )


@router.post("/contact/person/{index}/address", response_class=HTMLResponse)
async def address_post(request: Request, c: ContainerDep, index: int) -> Response:
    index = max(0, index)
    return await _step(
        request,
        c,
        lambda d: journey.address_page(d, index),
        lambda d, f: journey.address_save(d, f, index),
        lambda d: "/contact/another-person",
    )


@router.get("/contact/another-person", response_class=HTMLResponse)
def another_show(request: Request, c: ContainerDep) -> Response:
    return _question(
        request, journey.another_page(_draft(request, c)), [], back="/contact/person/0"
    )


@router.post("/contact/another-person", response_class=HTMLResponse)
async def another_post(request: Request, c: ContainerDep) -> Response:
    choice: dict[str, str] = {}

    def save(draft: dict[str, Any], form: journey.Form) -> journey.Errors:
        value = form.get("another")
        if value not in ("yes", "no"):
            return [("another", "Select yes if you need to add another person")]
        choice["value"] = str(value)
        return []

    def next_url(draft: dict[str, Any]) -> str:
        if choice.get("value") == "yes":
            return f"/contact/person/{len(draft.get('protected_people', []))}"
        return "/contact/prisoner"

    return await _step(request, c, journey.another_page, save, next_url)


def _check_context(draft: dict[str, Any], today: date) -> dict[str, Any]:
    errors: journey.Errors = []
    try:
        parse_request(draft, today=today)
    except ValidationError as exc:
        errors = [(e.field, e.reason) for e in exc.errors]
    return {
        "draft": draft,
        "errors": [],
        "check_errors": errors,
        "needs_consent": _needs_consent(draft),
        "change_links": _CHANGE_LINKS,
    }


# Where each part of the answers is changed, for the error summary on the check page.
_CHANGE_LINKS = {
    "requester.type": "/contact/who",
    "consent": "/contact/consent",
    "requester": "/contact/your-details",
    "protected_people": "/contact/person/0",
    "prisoner": "/contact/prisoner",
    "contact": "/contact/contact-so-far",
}


@router.get("/contact/check", response_class=HTMLResponse)
def check_show(request: Request, c: ContainerDep) -> Response:
    draft = _draft(request, c)
    if not draft:
        return RedirectResponse("/contact", status_code=303)
    context = _check_context(draft, c.clock.now().date())
    return _public_render(request, "contact/check.html", context)


@router.post("/contact/check", response_class=HTMLResponse)
async def check_submit(request: Request, c: ContainerDep) -> Response:
    try:
        await _public_form(request, c)
    except Refused as refused:
        return _public_render(
            request, "contact/refused.html", {"message": refused.message}, refused.status_code
        )
    draft = _draft(request, c)
    try:
        parsed = parse_request(draft, today=c.clock.now().date())
    except ValidationError:
        context = _check_context(draft, c.clock.now().date())
        return _public_render(request, "contact/check.html", context, 400)
    with c.uow() as uow:
        reference = intake.submit_request(uow, c.cipher, parsed, channel="form")
        uow.commit()
    response = RedirectResponse("/contact/confirmation", status_code=303)
    # The draft is replaced by the reference alone: nothing else of the answers is kept in it.
    _save(request, c, {"submitted_reference": reference}, response)
    return response


@router.get("/contact/confirmation", response_class=HTMLResponse)
def confirmation(request: Request, c: ContainerDep) -> Response:
    reference = _draft(request, c).get("submitted_reference")
    if not reference:
        return RedirectResponse("/contact", status_code=303)
    return _public_render(request, "contact/confirmation.html", {"reference": reference})


@router.get("/contact/report", response_class=HTMLResponse)
def report_show(request: Request) -> Response:
    return _public_render(request, "contact/report.html", {"errors": [], "values": {}})


@router.post("/contact/report", response_class=HTMLResponse)
async def report_post(request: Request, c: ContainerDep) -> Response:
    try:
        form = await _public_form(request, c)
    except Refused as refused:
        return _public_render(
            request, "contact/refused.html", {"message": refused.message}, refused.status_code
        )
    values = {k: v for k, v in _as_dict(form).items() if isinstance(v, str)}
    try:
        with c.uow() as uow:
            intelligence.submit_intelligence(uow, c.cipher, values, principal=None)
            uow.commit()
    except ValidationError as exc:
        errors = [(e.field, e.reason) for e in exc.errors]
        return _public_render(
            request, "contact/report.html", {"errors": errors, "values": values}, 400
        )
    return _public_render(request, "contact/report_done.html", {})


# --- case handler pages ---------------------------------------------------------------------


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
            "labels": LABELS,
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
        uow.commit()
    return render(
        request,
        "contact/case.html",
        {
            "case": detail,
            "candidates": found,
            "errors": errors,
            "labels": LABELS,
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
        parsed = bars.parse_bar(
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


@router.get("/contact/security", response_class=HTMLResponse)
def security(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    with c.uow() as uow:
        entries = intelligence.security_queue(uow, c.cipher, principal)
        uow.commit()
    return render(
        request,
        "contact/security.html",
        {"entries": entries, "labels": LABELS},
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
