"""Single sign-on end to end in Chromium: the sign-in page's button, the identity provider's own
form on loopback, and back into Vigil as the role the provider's groups give."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import LiveServer, free_port, serving
from tests.conftest import RunningClock, make_settings
from tests.security.oidc_provider import Provider, running_provider
from vigil.bootstrap import build_container
from vigil.db import migrate


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def sso_server(tmp_path: Path, provider: Provider) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path / 'sso.db'}"
    migrate.upgrade(url)
    port = free_port()
    settings = provider.settings(make_settings(url), f"http://127.0.0.1:{port}")
    with serving(build_container(settings, clock=RunningClock()), port) as server:
        yield server


def _offline_provider_styles(page: Any) -> None:
    # The provider's form asks a public CDN for its stylesheet; test machines are offline, so it
    # gets an empty one (Vigil's own pages load nothing from outside, and are still watched).
    page.route(
        "https://cdn.jsdelivr.net/**",
        lambda route: route.fulfill(status=200, content_type="text/css", body=""),
    )


def test_an_officer_signs_in_with_their_force_account(
    page: Any, sso_server: LiveServer, provider: Provider
) -> None:
    provider.person(
        "pc-2207",
        name="PC Ravi Patel",
        preferred_username="ravi.patel",
        groups=["wmp-domestic-abuse"],
        amr=["pwd", "hwk"],
    )
    _offline_provider_styles(page)
    page.goto(f"{sso_server.url}/caseload")
    assert page.url.startswith(f"{sso_server.url}/login")
    page.get_by_role("button", name="Sign in with your force account").click()
    # The provider's own page: a different origin, its own form.
    page.wait_for_url(f"{provider.issuer}/**")
    page.get_by_placeholder("sub").fill("pc-2207")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{sso_server.url}/caseload")
    assert page.get_by_role("heading", name="Caseload").count() >= 1
    me = page.request.get(f"{sso_server.url}/api/me").json()
    assert (me["role"], me["force_area"]) == ("police", "WMP")


def test_a_person_in_no_vigil_group_is_told_why_and_stays_out(
    page: Any, sso_server: LiveServer, provider: Provider
) -> None:
    provider.person("visitor", name="A Visitor", groups=["everyone"])
    _offline_provider_styles(page)
    page.goto(f"{sso_server.url}/login")
    page.get_by_role("button", name="Sign in with your force account").click()
    page.get_by_placeholder("sub").fill("visitor")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{sso_server.url}/login/sso/callback**")
    summary = page.locator(".govuk-error-summary")
    assert "not in a group that may use Vigil" in summary.inner_text()
    assert page.request.get(f"{sso_server.url}/api/me").status == 401
