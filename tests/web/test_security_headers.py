"""Browser protections on every answer: no-store on anything with personal data, a strict CSP
with no inline script in any page, no framing, a referrer policy, nosniff, HSTS outside
development; static files may be cached."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import log_in
from tests.people.registry import PASSWORD, build_registry
from vigil.bootstrap import Container
from vigil.settings import Environment
from vigil.web.app import create_app

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "vigil"


def test_pages_and_api_answers_carry_the_headers(client: TestClient, container: Container) -> None:
    build_registry(container)
    log_in(client, "officer", PASSWORD)
    for path in ("/", "/caseload", "/api/persons", "/login", "/contact"):
        response = client.get(path)
        headers = response.headers
        assert headers["cache-control"] == "no-store", path
        csp = headers["content-security-policy"]
        script_src = csp.split("script-src")[1].split(";")[0]
        assert "'self'" in script_src
        assert "unsafe-inline" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["strict-transport-security"].startswith("max-age=")
    static = client.get("/static/vigil.css")
    assert static.headers.get("cache-control") != "no-store"


def test_no_hsts_in_development(container: Container) -> None:
    settings = container.settings.model_copy(update={"environment": Environment.DEVELOPMENT})
    container.settings = settings
    response = TestClient(create_app(container)).get("/login")
    assert "strict-transport-security" not in response.headers


def test_no_template_has_inline_script_or_event_handler() -> None:
    """The CSP allows scripts from files only; JSON data blocks are data, not script."""
    offenders = []
    for template in TEMPLATES.rglob("templates/**/*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{template.name}: {tag}")
        if re.search(r"\son[a-z]+=", text):
            offenders.append(f"{template.name}: inline event handler")
    assert offenders == []


def test_every_cookie_is_secure_in_production(container: Container) -> None:
    container.settings = container.settings.model_copy(
        update={"environment": Environment.PRODUCTION, "public_base_url": "https://vigil.example"}
    )
    client = TestClient(create_app(container), base_url="https://testserver")
    build_registry(container)
    cookies = client.get("/login").headers.get_list("set-cookie")
    cookies += client.get("/contact/who").headers.get_list("set-cookie")
    log_in(client, "officer", PASSWORD)
    assert cookies
    assert all("Secure" in cookie for cookie in cookies)
