"""Every staff page, for every demo role, in a real browser: each renders without a server error and
passes axe-core with no serious or critical violations.

One server with the demo seed (the Midlands pilot, contact service data, a harm matrix, a crime
batch, plus an open alert) and one Chromium. For each role the test signs in, walks through the
role's forms in their error states (an order submitted empty, a matching run without a reason,
...), then visits every page in the role's navigation and follows links from those pages two steps
deep to reach the detail pages (a person, an order and its form, a protected person, an alert, a
harm perpetrator, an evidence person, a contact case, a matching run, ...). Links are grouped by
the shape of their path (segments holding ids become ``{id}``) and only the first link of each
shape is opened, so a list of forty people costs one visit, not forty. The crawl follows only GET
links, which change nothing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
import uvicorn
from playwright.sync_api import Error as PlaywrightError

from tests.browser import PageProblems, map_problems
from tests.conftest import START, RunningClock, make_settings
from tests.demo_pilot import exclusion_zone, person_in, raise_alert
from tests.e2e.helpers import AXE
from vigil.bootstrap import build_container
from vigil.db import migrate
from vigil.sim.demo import DEMO_PASSWORD, seed_demo
from vigil.web.app import create_app

ROLES = ("operator", "officer", "police.wmp", "casehandler", "analyst", "admin", "auditor")
# Home, the navigation pages it lists, the detail pages they link to, and one step further.
LEVELS = 4
NOT_PAGES = ("/static/", "/api/", "/docs", "/openapi.json", "/login", "/logout", "/healthz")

AXE_RUN = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations
      .filter(v => v.impact === 'serious' || v.impact === 'critical')
      .map(v => ({id: v.id, impact: v.impact, help: v.help,
                  targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""

# The page's structure as axe-core sees it: every element with the attributes that decide its
# name, role and colours, and whether it holds text; hashed (FNV-1a) so pages can be compared.
STRUCTURE = """() => {
    const attrs = ['id', 'class', 'role', 'type', 'name', 'for', 'href', 'alt', 'title', 'lang',
                   'tabindex', 'disabled', 'colspan', 'rowspan', 'scope', 'headers'];
    let h = 0x811c9dc5;
    const feed = s => { for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i);
                                                          h = Math.imul(h, 0x01000193); } };
    for (const el of document.querySelectorAll('main, main *')) {
      feed(el.tagName);
      for (const a of el.attributes) {
        if (attrs.includes(a.name) || a.name.startsWith('aria-')) feed(a.name + '=' + a.value);
      }
      for (const n of el.childNodes) if (n.nodeType === 3 && n.data.trim()) { feed('T'); break; }
    }
    return (h >>> 0).toString(16);
}"""

# A navigation marks one page as the current one (aria-current), never two.
DOUBLE_CURRENT = """() => Array.from(document.querySelectorAll('nav'))
    .filter(nav => nav.querySelectorAll('[aria-current=page]').length > 1)
    .map(nav => nav.getAttribute('aria-label') || 'a navigation')"""

# GOV.UK's error summary links each problem to its field; a link to no element leaves a keyboard
# or screen-reader user nowhere.
BROKEN_ERROR_LINKS = """() => Array.from(document.querySelectorAll('.govuk-error-summary__list a'))
    .map(a => a.getAttribute('href') || '')
    .filter(h => h.startsWith('#') && !document.getElementById(decodeURIComponent(h.slice(1))))"""


@dataclass(frozen=True)
class Demo:
    url: str
    person_id: int  # a Birmingham North wearer (West Midlands Police's area) with an open alert


@dataclass
class Sweep:
    """What the walk found: pages checked per role, server errors, accessibility problems."""

    checked: dict[str, list[str]] = field(default_factory=dict)
    structures: set[str] = field(default_factory=set)  # pages axe-core has already checked
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    mapped: set[str] = field(default_factory=set)  # shapes of the pages with a map
    maps: list[str] = field(default_factory=list)  # maps that did not draw what they were given
    browser: PageProblems = field(default_factory=PageProblems)  # script errors, lost assets


def shape(path: str) -> str:
    """/persons/123/orders/new -> /persons/{id}/orders/new."""
    return "/".join("{id}" if re.search(r"\d", part) else part for part in path.split("/"))


# The demo is seeded relative to its clock; two days in different months and years (the second
# the morning the clocks go forward) show the walk does not depend on the day it runs.
SEED_DAYS = (START, datetime(2028, 3, 26, 6, 30, tzinfo=UTC))


@pytest.fixture(scope="module", params=SEED_DAYS, ids=lambda day: day.date().isoformat())
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    url = f"sqlite:///{tmp_path_factory.mktemp('a11y') / 'a11y.db'}"
    migrate.upgrade(url)
    container = build_container(make_settings(url), clock=RunningClock(request.param))
    logins = seed_demo(container)
    assert {login for login, _password, _role in logins} >= set(ROLES)
    wearer = person_in(container, "Birmingham North")
    condition_id, zone = exclusion_zone(container, wearer.id)
    lon, lat = zone["geometry"]["coordinates"]  # type: ignore[index]
    raise_alert(container, wearer.id, condition_id=condition_id, lat=lat, lon=lon)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(container), host="127.0.0.1", port=0, log_config=None, access_log=False
        )
    )
    thread = threading.Thread(target=server.run, name="a11y-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Demo(f"http://127.0.0.1:{port}", wearer.id)
    server.should_exit = True
    thread.join(timeout=10)
    container.engine.dispose()


class Walker:
    """One role's browser context: checks the page it is on and opens pages by URL."""

    def __init__(self, page: Any, demo: Demo, role: str, sweep: Sweep) -> None:
        self.page, self.demo, self.role, self.sweep = page, demo, role, sweep
        self.base = demo.url

    def check(self, status: int) -> None:
        """Record a server error, run axe-core and check the error summary's links."""
        where = self.page.url.removeprefix(self.base)
        if status >= 500:
            self.sweep.server_errors.append(f"{self.role}: {where} answered {status}")
            return
        if self.page.locator(".vigil-map").count():
            self.page.locator(".leaflet-container").first.wait_for()
            self.sweep.mapped.add(shape(urlsplit(self.page.url).path))
            self.sweep.maps.extend(f"{self.role}: {where} {p}" for p in map_problems(self.page))
        self.sweep.checked.setdefault(self.role, []).append(where)
        for nav in self.page.evaluate(DOUBLE_CURRENT):
            self.sweep.violations.append(f"{self.role}: {where} {nav} marks two current pages")
        structure = self.page.evaluate(STRUCTURE)
        if structure in self.sweep.structures:
            return  # another role saw exactly this page; axe-core would say the same again
        self.sweep.structures.add(structure)
        self.page.evaluate(AXE.read_text())  # CDP, not a <script>: the CSP allows no inline script
        for v in self.page.evaluate(AXE_RUN):
            self.sweep.violations.append(
                f"{self.role}: {where} {v['impact']} {v['id']} ({v['help']}) at "
                + ", ".join(v["targets"])
            )
        for href in self.page.evaluate(BROKEN_ERROR_LINKS):
            self.sweep.violations.append(
                f"{self.role}: {where} error summary links to {href}, which is not on the page"
            )

    def submit(self, button: str) -> None:
        """Press a form's button and check the page the server answers with: a form answers
        with a page (its errors in the error summary), never bare data."""
        with self.page.expect_navigation() as navigation:
            self.page.click(button)
        response = navigation.value
        kind = response.headers.get("content-type", "")
        if response.status < 500 and "text/html" not in kind:
            self.sweep.violations.append(
                f"{self.role}: {self.page.url.removeprefix(self.base)} answered a form with "
                f"{response.status} {kind}, not a page"
            )
            return
        self.check(response.status)

    def open(self, url: str) -> list[str] | None:
        """Open URL and check it if it is an HTML page; its links, or None for a download or
        data (CSV, JSON, PDF) rather than a page."""
        try:
            response = self.page.goto(url)
        except PlaywrightError as exc:
            if "Download is starting" not in str(exc):
                raise
            status = self.page.request.get(url).status  # a file: only its status matters
            if status >= 500:
                self.sweep.server_errors.append(
                    f"{self.role}: {url.removeprefix(self.base)} answered {status}"
                )
            return None
        if response.status < 500 and "text/html" not in response.headers.get("content-type", ""):
            return None
        self.check(response.status)
        return self.links()

    def links(self) -> list[str]:
        hrefs: list[str] = self.page.eval_on_selector_all(
            "main a[href]:not([download])", "links => links.map(a => a.href)"
        )
        out = []
        for href in (urldefrag(h).url for h in hrefs):
            path = urlsplit(href).path
            if href.startswith(self.base) and not any(path.startswith(p) for p in NOT_PAGES):
                out.append(href)
        return out


# Forms in their error states, and the pages their results lead to, per role.
def _officer_forms(w: Walker) -> None:
    person = w.demo.person_id
    w.page.goto(f"{w.base}/persons/{person}/orders/new")
    w.submit("main form[method=post] button[type=submit]")  # nothing filled in
    w.page.goto(f"{w.base}/persons/{person}/orders/new")
    w.submit("button[name=action][value=save]")
    w.page.goto(f"{w.base}/evidence/persons/{person}")
    w.submit("form[action$='/weekly'] button")


def _analyst_forms(w: Walker) -> None:
    w.page.goto(f"{w.base}/evidence/crime")
    w.page.locator("main a[href*='/evidence/crime/batches/']").first.click()
    w.page.wait_for_url("**/evidence/crime/batches/*")
    w.submit("form[action$='/run'] button")  # no reason given
    w.page.fill("#reason", "Accessibility check of the matching pages")
    w.submit("form[action$='/run'] button")


def _casehandler_forms(w: Walker) -> None:
    w.page.goto(f"{w.base}/contact/cases")
    w.submit("form[action='/contact/cases/find'] button")  # nothing to find


FORMS: dict[str, Callable[[Walker], None]] = {
    "officer": _officer_forms,
    "analyst": _analyst_forms,
    "casehandler": _casehandler_forms,
}


def _log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def _walk_as(browser: Any, demo: Demo, role: str, sweep: Sweep) -> None:
    context = browser.new_context()
    page = sweep.browser.watch(context.new_page())
    page.set_default_timeout(15_000)
    walker = Walker(page, demo, role, sweep)
    try:
        _log_in(page, demo.url, role, DEMO_PASSWORD)
        page.wait_for_url(f"{demo.url}/")
        if role in FORMS:
            FORMS[role](walker)
        seen: set[str] = set()
        frontier = [f"{demo.url}/"]  # the home page lists the role's navigation
        for _level in range(LEVELS):
            following: list[str] = []
            for url in frontier:
                key = shape(urlsplit(url).path)
                if key not in seen:
                    seen.add(key)
                    following.extend(walker.open(url) or [])
            frontier = following
    finally:
        context.close()


def _walk_signed_out(browser: Any, demo: Demo, sweep: Sweep) -> None:
    context = browser.new_context()
    page = sweep.browser.watch(context.new_page())
    walker = Walker(page, demo, "signed out", sweep)
    try:
        walker.check(page.goto(f"{demo.url}/login").status)
        _log_in(page, demo.url, "operator", "not the password")
        page.wait_for_load_state()
        walker.check(200)
        walker.check(page.goto(f"{demo.url}/no-such-page").status)
    finally:
        context.close()


@pytest.fixture(scope="module")
def sweep(demo: Demo, browser: Any) -> Sweep:
    found = Sweep()
    _walk_signed_out(browser, demo, found)
    for role in ROLES:
        _walk_as(browser, demo, role, found)
    return found


def test_the_walk_reaches_each_roles_navigation_and_detail_pages(sweep: Sweep) -> None:
    def shapes(role: str) -> set[str]:
        return {shape(urlsplit(url).path) for url in sweep.checked[role]}

    assert set(sweep.checked) == {"signed out", *ROLES}
    assert {
        "/persons/{id}",
        "/orders/{id}",
        "/orders/{id}/vary",
        "/protected-persons/{id}",
        "/persons/{id}/wearer-view",
        "/persons/{id}/orders/new",
        "/alerts/{id}",
        "/evidence/persons/{id}",
    } <= shapes("officer")
    assert {"/alerts/queue", "/alerts/{id}"} <= shapes("operator")
    assert {"/alerts/{id}", "/evidence/crime/batches/{id}"} <= shapes("police.wmp")
    assert {"/harm", "/harm/person/{id}", "/evidence/crime/runs/{id}"} <= shapes("analyst")
    assert {"/contact/cases", "/contact/cases/{id}"} <= shapes("casehandler")


def test_no_staff_page_answers_with_a_server_error(sweep: Sweep) -> None:
    assert sweep.server_errors == [], "\n".join(sweep.server_errors)


def test_every_staff_page_has_no_serious_or_critical_accessibility_problem(sweep: Sweep) -> None:
    assert sweep.violations == [], "\n" + "\n".join(sweep.violations)


def test_no_page_logs_a_script_error_or_loses_an_asset(sweep: Sweep) -> None:
    assert sweep.browser.found == [], "\n" + "\n".join(sweep.browser.found)


def test_every_map_draws_its_zones_buffers_and_fixes(sweep: Sweep) -> None:
    assert sweep.maps == [], "\n" + "\n".join(sweep.maps)
    assert {
        "/persons/{id}",
        "/alerts/{id}",
        "/persons/{id}/wearer-view",
        "/persons/{id}/orders/new",
        "/orders/{id}",
        "/orders/{id}/vary",
    } <= sweep.mapped


def test_links_to_the_same_kind_of_page_share_a_shape() -> None:
    assert shape("/persons/42/orders/new") == "/persons/{id}/orders/new"
    assert shape("/harm/person/HX00000758") == "/harm/person/{id}"
    assert shape("/alerts/queue") == "/alerts/queue"


def test_harm_forms_show_their_errors_in_the_error_summary(demo: Demo, browser: Any) -> None:
    found = Sweep()
    context = browser.new_context()
    page = found.browser.watch(context.new_page())
    walker = Walker(page, demo, "analyst", found)
    try:
        _log_in(page, demo.url, "analyst", DEMO_PASSWORD)
        page.wait_for_url(f"{demo.url}/")
        page.goto(f"{demo.url}/harm/import")
        walker.submit("form[action='/harm/import'] button")  # no file chosen
        page.goto(f"{demo.url}/harm")
        page.fill("#as_of", "next Tuesday")
        walker.submit("form[action='/harm/runs'] button")
        page.goto(f"{demo.url}/harm")
        page.locator("#matrix a[href^='/harm/person/']").first.click()
        page.wait_for_url("**/harm/person/**")
        walker.submit("form[action='/harm/reviews'] button")  # no actions agreed
    finally:
        context.close()
    assert found.violations == [], "\n".join(found.violations)
    assert found.browser.found == [], "\n".join(found.browser.found)
    assert len(found.checked["analyst"]) == 3
