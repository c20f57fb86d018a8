"""HTML for printable reports (weekly overview, evidence pack, match report) and PDF via WeasyPrint.

Reports are standalone documents (inline CSS and SVG, no external assets) so the HTML an officer
opens, the PDF a court receives and the file emailed are the same content.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

TEMPLATES = Path(__file__).with_name("templates")


def _local(value: Any, fmt: str = "%a %d %b %Y %H:%M %Z") -> str:
    """A stored time (a datetime or ISO text, as in a signed pack) as people read it: UK local
    time with its zone abbreviation ("10:00 BST", "09:00 GMT")."""
    from datetime import datetime

    from vigil.words import local_time

    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    return str(local_time(value, fmt))


def _duration(seconds: Any) -> str:
    if seconds is None:
        return "—"
    total = round(float(seconds) / 60)
    return f"{total // 60}h {total % 60:02d}m"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = _local
    env.filters["duration"] = _duration
    env.filters["svg"] = Markup  # our own generated SVG only (every label inside is escaped)
    return env


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf
