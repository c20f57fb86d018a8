"""Jinja2 set-up: the layout lives here, each part keeps its own templates beside its pages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from vigil.security.model import ROLE_LABELS, Principal
from vigil.web.auth import CSRF_FIELD, page_csrf_token
from vigil.web.outage import current_outage

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def path_segment(value: object) -> str:
    """One identifier as one URL path segment: police ids such as ``07/7252986U`` keep their slash
    inside the segment (``07%2F7252986U``) instead of splitting the path."""
    return quote(str(value), safe="")


LONDON = ZoneInfo("Europe/London")


def local_time(
    value: datetime | str | None, fmt: str = "%-d %b %Y %H:%M %Z", tz: ZoneInfo | None = None
) -> str:
    """A stored UTC time (a datetime or ISO text) as people read it: local time with its zone
    abbreviation, "10:00 BST" in summer and "09:00 GMT" in winter. Machine outputs keep UTC."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(tz or LONDON).strftime(fmt)


# Words in codes that people write in capitals ("gps_tag" is "GPS tag").
_ACRONYMS = {"gps": "GPS", "rf": "RF", "sos": "SOS", "crn": "CRN", "pnc": "PNC", "sms": "SMS"}


def code_label(value: object) -> str:
    """A stored code as people read it: ``strap_removed`` is "Strap removed", ``starts_at``
    "Starts at". Pages print codes through this, never raw (an enum gives its value)."""
    words = [_ACRONYMS.get(w, w) for w in str(getattr(value, "value", value)).split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


# Actors Vigil itself records ("system:alerts"), by the part that acted.
_SYSTEM_ACTORS = {
    "system": "Vigil",
    "cli": "the command line",
    "demo": "the demo set-up",
    "anonymous": "a member of the public",
}


def actor_name(actor: str | None) -> str:
    """Who did something, as people read it: a user's username ("user:9:officer" is "officer"),
    a machine token's name, and Vigil for what the system did itself."""
    if not actor:
        return ""
    kind, _, rest = actor.partition(":")
    if kind in ("user", "token"):
        name = rest.partition(":")[2] or rest
        return name if kind == "user" else f"{name} (machine)"
    return _SYSTEM_ACTORS.get(kind, actor)


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
