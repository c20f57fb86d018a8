"""UPCS public form pages: no login, one question per page, a check page and a confirmation."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.contact import (
    intake,
    intelligence,
    journey,
    journey_people,
    journey_prisoner,
)
from vigil.contact.pages.form_steps import (
    Refused,
    answer_step,
    draft_json,
    form_as_dict,
    needs_consent,
    public_render,
    question_page,
    read_public_form,
    save_draft,
    simple_step,
)
from vigil.contact.request_parsing import parse_request
from vigil.errors import ValidationError
from vigil.web.auth import (
    ContainerDep,
)

router = APIRouter(include_in_schema=False)


# --- public form plumbing -------------------------------------------------------------------


# --- public form routes ---------------------------------------------------------------------


@router.get("/contact", response_class=HTMLResponse)
def start(request: Request) -> Response:
    return public_render(request, "contact/start.html", {})


simple_step(
    router,
    "who",
    journey.who_page,
    journey.who_save,
    lambda d: "/contact/consent" if needs_consent(d) else "/contact/your-details",
    "/contact",
)
simple_step(
    router,
    "consent",
    journey.consent_page,
    journey.consent_save,
    lambda d: "/contact/your-details",
    "/contact/who",
)
simple_step(
    router,
    "your-details",
    journey.details_page,
    journey.details_save,
    lambda d: "/contact/safe-contact",
    "/contact/who",
)
simple_step(
    router,
    "safe-contact",
    journey.safe_page,
    journey.safe_save,
    lambda d: "/contact/person/0",
    "/contact/your-details",
)
simple_step(
    router,
    "contact-so-far",
    journey_prisoner.contact_page,
    journey_prisoner.contact_save,
    lambda d: "/contact/check",
    "/contact/prisoner",
)


@router.get("/contact/prisoner", response_class=HTMLResponse)
def prisoner_show(request: Request, c: ContainerDep) -> Response:
    return question_page(
        request,
        journey_prisoner.prisoner_page(draft_json(request, c)),
        [],
        back="/contact/another-person",
    )


@router.post("/contact/prisoner", response_class=HTMLResponse)
async def prisoner_post(request: Request, c: ContainerDep) -> Response:
    today = c.clock.now().date()
    return await answer_step(
        request,
        c,
        journey_prisoner.prisoner_page,
        lambda d, f: journey_prisoner.prisoner_save(d, f, today),
        lambda d: "/contact/contact-so-far",
    )


@router.get("/contact/person/{index}", response_class=HTMLResponse)
def person_show(request: Request, c: ContainerDep, index: int) -> Response:
    draft = draft_json(request, c)
    index = max(0, min(index, len(draft.get("protected_people", []))))
    return question_page(
        request, journey_people.person_page(draft, index), [], back="/contact/safe-contact"
    )


@router.post("/contact/person/{index}", response_class=HTMLResponse)
async def person_post(request: Request, c: ContainerDep, index: int) -> Response:
    index = max(0, index)
    return await answer_step(
        request,
        c,
        lambda d: journey_people.person_page(d, min(index, len(d.get("protected_people", [])))),
        lambda d, f: journey_people.person_save(
            d, f, min(index, len(d.get("protected_people", [])))
        ),
        lambda d: f"/contact/person/{index}/address",
    )


@router.get("/contact/person/{index}/address", response_class=HTMLResponse)
def address_show(request: Request, c: ContainerDep, index: int) -> Response:
    draft = draft_json(request, c)
    if index < 0 or index >= len(draft.get("protected_people", [])):
        return RedirectResponse("/contact/person/0", status_code=303)
    return question_page(
        request, journey_people.address_page(draft, index), [], back=f"/contact/person/{index}"
    )


@router.post("/contact/person/{index}/address", response_class=HTMLResponse)
async def address_post(request: Request, c: ContainerDep, index: int) -> Response:
    index = max(0, index)
    return await answer_step(
        request,
        c,
        lambda d: journey_people.address_page(d, index),
        lambda d, f: journey_people.address_save(d, f, index),
        lambda d: "/contact/another-person",
    )


@router.get("/contact/person/{index}/remove", response_class=HTMLResponse)
def remove_show(request: Request, c: ContainerDep, index: int) -> Response:
    draft = draft_json(request, c)
    if index < 0 or index >= len(draft.get("protected_people", [])):
        return RedirectResponse("/contact/another-person", status_code=303)
    return question_page(
        request, journey_people.remove_page(draft, index), [], back="/contact/another-person"
    )


@router.post("/contact/person/{index}/remove", response_class=HTMLResponse)
async def remove_post(request: Request, c: ContainerDep, index: int) -> Response:
    return await answer_step(
        request,
        c,
        lambda d: journey_people.remove_page(d, index),
        lambda d, f: journey_people.remove_save(d, f, index),
        # With nobody left, the list has nothing to show: ask for the first person again.
        lambda d: "/contact/another-person" if d.get("protected_people") else "/contact/person/0",
    )


@router.get("/contact/another-person", response_class=HTMLResponse)
def another_show(request: Request, c: ContainerDep) -> Response:
    draft = draft_json(request, c)
    last = max(0, len(draft.get("protected_people", [])) - 1)
    return question_page(
        request,
        journey_people.another_page(draft),
        [],
        back=f"/contact/person/{last}/address",
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

    return await answer_step(request, c, journey_people.another_page, save, next_url)


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
        "needs_consent": needs_consent(draft),
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
    draft = draft_json(request, c)
    if not draft:
        return RedirectResponse("/contact", status_code=303)
    context = _check_context(draft, c.clock.now().date())
    return public_render(request, "contact/check.html", context)


@router.post("/contact/check", response_class=HTMLResponse)
async def check_submit(request: Request, c: ContainerDep) -> Response:
    try:
        await read_public_form(request, c)
    except Refused as refused:
        return public_render(
            request, "contact/refused.html", {"message": refused.message}, refused.status_code
        )
    draft = draft_json(request, c)
    try:
        parsed = parse_request(draft, today=c.clock.now().date())
    except ValidationError:
        context = _check_context(draft, c.clock.now().date())
        return public_render(request, "contact/check.html", context, 400)
    with c.uow() as uow:
        reference = intake.submit_request(uow, c.cipher, parsed, channel="form")
        uow.commit()
    response = RedirectResponse("/contact/confirmation", status_code=303)
    # The draft is replaced by the reference alone: nothing else of the answers is kept in it.
    save_draft(request, c, {"submitted_reference": reference}, response)
    return response


@router.get("/contact/confirmation", response_class=HTMLResponse)
def confirmation(request: Request, c: ContainerDep) -> Response:
    reference = draft_json(request, c).get("submitted_reference")
    if not reference:
        return RedirectResponse("/contact", status_code=303)
    return public_render(
        request,
        "contact/confirmation.html",
        {"reference": reference, "decision_days": c.settings.contact_decision_days},
    )


@router.get("/contact/report", response_class=HTMLResponse)
def report_show(request: Request) -> Response:
    return public_render(request, "contact/report.html", {"errors": [], "values": {}})


@router.post("/contact/report", response_class=HTMLResponse)
async def report_post(request: Request, c: ContainerDep) -> Response:
    try:
        form = await read_public_form(request, c)
    except Refused as refused:
        return public_render(
            request, "contact/refused.html", {"message": refused.message}, refused.status_code
        )
    values = {k: v for k, v in form_as_dict(form).items() if isinstance(v, str)}
    try:
        with c.uow() as uow:
            intelligence.submit_intelligence(uow, c.cipher, values, principal=None)
            uow.commit()
    except ValidationError as exc:
        errors = [(e.field, e.reason) for e in exc.errors]
        return public_render(
            request, "contact/report.html", {"errors": errors, "values": values}, 400
        )
    return public_render(request, "contact/report_done.html", {})


# --- case handler pages ---------------------------------------------------------------------
