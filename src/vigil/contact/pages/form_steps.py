"""The public form's plumbing: the pre-session CSRF, the signed draft cookie, one question per
page and the step that checks and saves an answer."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from vigil.bootstrap import Container
from vigil.contact import (
    intake,
    journey,
)
from vigil.contact.helplines import EMERGENCY, HELPLINES
from vigil.contact.model import (
    CHOICE_LABELS,
    MAX_BODY_BYTES,
    RequesterType,
)
from vigil.text import ascii_digits
from vigil.web.auth import (
    CSRF_FIELD,
    PRE_SESSION_CSRF_COOKIE,
    ContainerDep,
    pre_session_csrf,
)
from vigil.web.templating import render

DRAFT_COOKIE = "vigil_contact_draft"


HONEYPOT = "website"


class Refused(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def public_render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    csrf = pre_session_csrf(request)
    request.state.csrf_token = csrf
    response = render(
        request,
        template,
        {
            "labels": CHOICE_LABELS,
            "honeypot": HONEYPOT,
            "emergency": EMERGENCY,
            "helplines": HELPLINES,
            **context,
        },
        status_code=status_code,
    )
    response.set_cookie(
        PRE_SESSION_CSRF_COOKIE, csrf, httponly=True, samesite="strict", max_age=7200
    )
    return response


async def read_public_form(request: Request, c: Container) -> FormData:
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


def form_as_dict(form: FormData) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        out[key] = values if key == "kinds" else (values[0] if values else "")
    return out


def draft_json(request: Request, c: Container) -> dict[str, Any]:
    with c.uow() as uow:
        return intake.draft_json(uow, c.cipher, request.cookies.get(DRAFT_COOKIE))


def save_draft(request: Request, c: Container, draft: dict[str, Any], response: Response) -> None:
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


def question_page(
    request: Request,
    page: journey.Page,
    errors: journey.Errors,
    status_code: int = 200,
    back: str | None = None,
) -> Response:
    return public_render(
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


async def answer_step(
    request: Request,
    c: Container,
    page_of: Callable[[dict[str, Any]], journey.Page],
    save: Callable[[dict[str, Any], journey.Form], journey.Errors],
    next_url: Callable[[dict[str, Any]], str],
) -> Response:
    try:
        form = await read_public_form(request, c)
    except Refused as refused:
        return public_render(
            request, "contact/refused.html", {"message": refused.message}, refused.status_code
        )
    draft = draft_json(request, c)
    data = form_as_dict(form)
    errors = save(draft, data)
    if errors:
        page = page_of(draft)
        for f in page.fields:
            # Show what was typed, not what was last saved, so nothing has to be typed again.
            if f.kind == "date":
                f.value = {k: data.get(f"{f.name}_{k}", "") for k in ("day", "month", "year")}
            elif f.name in data:
                f.value = data[f.name]
        return question_page(request, page, errors, 400)
    target = "/contact/check" if request.query_params.get("change") else next_url(draft)
    response = RedirectResponse(target, status_code=303)
    save_draft(request, c, draft, response)
    return response


def needs_consent(draft: dict[str, Any]) -> bool:
    kind = draft.get("requester", {}).get("type")
    return kind not in (RequesterType.VICTIM.value, RequesterType.ON_BEHALF_WITH_CONSENT.value)


def simple_step(
    router: APIRouter,
    slug: str,
    page_of: Callable[[dict[str, Any]], journey.Page],
    save: Callable[[dict[str, Any], journey.Form], journey.Errors],
    next_url: Callable[[dict[str, Any]], str],
    back: str,
) -> None:
    def show(request: Request, c: ContainerDep) -> Response:
        return question_page(request, page_of(draft_json(request, c)), [], back=back)

    async def post(request: Request, c: ContainerDep) -> Response:
        return await answer_step(request, c, page_of, save, next_url)

    router.add_api_route(f"/contact/{slug}", show, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(f"/contact/{slug}", post, methods=["POST"], response_class=HTMLResponse)
