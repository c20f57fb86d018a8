"""What every evidence page shares: the page frame, the stated-reason form, error lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse

from vigil.bootstrap import Container
from vigil.errors import ValidationError
from vigil.people import service as people
from vigil.people.service import PersonView
from vigil.security.model import Principal
from vigil.web.templating import render

Errors = list[tuple[str, str]]


def _errors(exc: ValidationError) -> Errors:
    return [(e.field, e.reason) for e in exc.errors]


def _local(settings_tz: str) -> Any:
    tz = ZoneInfo(settings_tz)

    def local(value: Any, fmt: str = "%d %b %Y %H:%M") -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime):
            return value.astimezone(tz).strftime(fmt)
        return str(value)

    return local


def _page(
    request: Request,
    c: Container,
    principal: Principal,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("errors", [])
    context["local"] = _local(c.settings.timezone)
    if "person_id" in context:
        context["person"] = _person_named(c, principal, str(context["person_id"]))
    return render(request, template, context, principal=principal, status_code=status_code)


def _person_named(c: Container, principal: Principal, person_id: str) -> PersonView | None:
    """Who the page is about, to name him (the page's own use case has checked the scope)."""
    if not person_id.isascii() or not person_id.isdigit():
        return None
    with c.uow() as uow:
        found = people.persons_by_ids(uow, [int(person_id)])
    return found.get(int(person_id))


def _reason_page(
    request: Request,
    c: Container,
    principal: Principal,
    *,
    title: str,
    action: str,
    hidden: dict[str, str],
    errors: Errors | None = None,
) -> HTMLResponse:
    """Ask why before showing anything from a trail (GET form, so the answer is a plain link)."""
    return _page(
        request,
        c,
        principal,
        "evidence/reason.html",
        status_code=422 if errors else 200,
        title=title,
        action=action,
        hidden=hidden,
        errors=errors or [],
    )


def _with(url: str, **params: str) -> str:
    return f"{url}?{urlencode(params)}"
