"""The people to protect in a real browser, with JavaScript and without: the "You have added"
list, a person removed (after being asked) and another changed from it, then the request sent and
the confirmation's help read; every page axe-core clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser import LiveServer, PageProblems
from tests.e2e.helpers import screenshot
from vigil.contact.helplines import HELPLINES
from vigil.contact.tables import contact_protected_people

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.e2e


@pytest.fixture
def page_without_script(browser: Any) -> Iterator[Any]:
    """A page with JavaScript turned off; it fails the test on a lost asset, as ``page`` does."""
    context = browser.new_context(java_script_enabled=False)
    problems = PageProblems()
    opened = problems.watch(context.new_page())
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
    assert problems.found == [], "the browser reported problems:\n" + "\n".join(problems.found)


def _axe_clean(page: Any, scripted: bool) -> None:
    """With the page's scripts turned off the browser runs none, axe included: the same pages,
    served the same, are checked in the run with JavaScript."""
    if not scripted:
        return
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document)")
    bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{page.url}: {bad}"


def _about_you(page: Any, base: str) -> None:
    page.goto(f"{base}/contact/who")
    page.get_by_label("The person being contacted").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Full name").fill("Jane Doe")
    page.get_by_label("Email address").fill("jane@example.com")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()  # no safe-contact note


def _add_person(page: Any, name: str, phone: str) -> None:
    page.get_by_label("Full name").fill(name)
    page.get_by_label("All their phone numbers").fill(phone)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()  # no address


def _the_rest(page: Any) -> None:
    page.get_by_label("Full name").fill("Jon Smith")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Phone calls").check()
    page.get_by_role("button", name="Continue").click()
    assert "Check your answers" in page.content()
    page.get_by_role("button", name="Accept and send").click()


def _listed(page: Any) -> list[str]:
    rows = page.locator("[data-testid=added-people] .govuk-summary-list__key")
    return [str(name).strip() for name in rows.all_inner_texts()]


def _change_and_remove_from_the_list(page: Any, scripted: bool) -> None:
    assert page.get_by_role("heading", name="You have added 3 people").is_visible()
    assert _listed(page) == ["Jane Doe", "Amy Doe", "Sam Doe"]
    _axe_clean(page, scripted)
    if scripted:
        screenshot(page, "contact-people-added")
    page.get_by_role("link", name="Remove Amy Doe").click()
    assert page.get_by_role("heading", name="Are you sure you want to remove Amy Doe?").is_visible()
    _axe_clean(page, scripted)
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", name="You have added 2 people").is_visible()
    assert _listed(page) == ["Jane Doe", "Sam Doe"]
    page.get_by_role("link", name="Change Sam Doe").click()
    page.get_by_label("Full name").fill("Sam Smith")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()
    assert _listed(page) == ["Jane Doe", "Sam Smith"]
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()


def _walk(page: Any, live_server: LiveServer, scripted: bool) -> None:
    _about_you(page, live_server.url)
    _add_person(page, "Jane Doe", "07700 900123")
    for name, phone in (("Amy Doe", "07700 900456"), ("Sam Doe", "07700 900789")):
        page.get_by_label("Yes").check()
        page.get_by_role("button", name="Continue").click()
        _add_person(page, name, phone)
    _change_and_remove_from_the_list(page, scripted)
    _the_rest(page)
    help_now = page.locator("[data-testid=helplines]").inner_text()
    for line in HELPLINES:
        assert line.number in help_now
    assert "call 999" in page.content()
    _axe_clean(page, scripted)
    if scripted:
        screenshot(page, "contact-confirmation")
    with live_server.container.engine.connect() as conn:
        people = conn.execute(select(contact_protected_people)).all()
    assert len(people) == 2


def test_people_are_changed_and_removed_from_the_list(live_server: LiveServer, page: Any) -> None:
    _walk(page, live_server, scripted=True)


def test_the_list_works_without_javascript(
    live_server: LiveServer, page_without_script: Any
) -> None:
    _walk(page_without_script, live_server, scripted=False)
