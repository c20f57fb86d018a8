"""Jinja2 set-up: the layout lives here, each part keeps its own templates beside its pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from vigil.security.model import ROLE_LABELS, Principal
from vigil.web.auth import CSRF_FIELD, page_csrf_token
from vigil.web.outage import current_outage
from vigil.words import actor_name, code_label, local_time

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def path_segment(value: object) -> str:
    """One identifier as one URL path segment: police ids such as ``07/7252986U`` keep their slash
    inside the segment (``07%2F7252986U``) instead of splitting the path."""
    return quote(str(value), safe="")


def build_environment() -> Environment:
    template_dirs = [PACKAGE_ROOT / "web" / "templates"]
    template_dirs += sorted(
        path for path in PACKAGE_ROOT.glob("*/templates") if path.parent.name != "web"
    )
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(path)) for path in template_dirs]),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["segment"] = path_segment
    env.filters["local"] = local_time
    env.filters["label"] = code_label
    env.filters["actor"] = actor_name
    env.globals["role_labels"] = ROLE_LABELS
    env.globals["csrf_field"] = CSRF_FIELD
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    principal: Principal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    env: Environment = request.app.state.templates
    container = request.app.state.container
    values = {
        "request": request,
        "principal": principal,
        "csrf_token": page_csrf_token(request),
        # Staff only: the public form's users cannot act on it.
        "outage": current_outage(container.bus, container.service_states) if principal else None,
        **(context or {}),
    }
    html = env.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code)
