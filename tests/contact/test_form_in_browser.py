"""The public form in a real browser: a charity worker asks for two people, without JavaScript
help, and every page is axe-core clean (no serious or critical violations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser import LiveServer
from vigil.contact.tables import contact_cases, contact_protected_people

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.e2e


def _axe_clean(page: Any) -> None:
    page.evaluate(AXE.read_text())  # CDP, not a <script>: the CSP allows no inline script
    result = page.evaluate("async () => await axe.run(document)")
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: {bad}"


def test_charity_worker_fills_the_whole_form_for_two_people(
    live_server: LiveServer,
    page: Any,
) -> None:
    base = live_server.url
    page.goto(f"{base}/contact")
    _axe_clean(page)
    exit_link = page.locator("[data-testid=exit-this-page] a")
    assert exit_link.is_visible()  # GOV.UK's quick exit, a plain link that works without script
    assert "Exit this page" in exit_link.inner_text()
    page.get_by_role("button", name="Start now").click()

    page.get_by_label("A victim service or charity").check()
    _axe_clean(page)
    page.get_by_role("button", name="Continue").click()

    # Consent is asked of everyone acting without stated consent.
    page.get_by_role("button", name="Continue").click()
    assert "Select whether the person knows" in page.content()
    _axe_clean(page)
    page.get_by_label("Yes, they agreed to this request").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Full name").fill("Asha Patel")
    page.get_by_label("Email address").fill("asha@refuge.example.org")
    page.get_by_label("Phone number").fill("0121 496 0000")
    _axe_clean(page)
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("How and when is it safe").fill("Text only, weekdays after 6pm")
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Full name").fill("Jane Doe")
    page.get_by_label("All their phone numbers").fill("07700 900123\n0121 496 0123")
    page.get_by_label("All their email addresses").fill("jane@example.com")
    _axe_clean(page)
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Address line 1").fill("Flat 2, 14 High Street")
    page.get_by_label("Town or city").fill("Birmingham")
    page.get_by_label("Postcode").fill("b11aa")
    _axe_clean(page)
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Yes").check()
    _axe_clean(page)
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Full name").fill("Amy Doe")
    page.get_by_label("All their phone numbers").fill("+44 7700 900456")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()  # no address for Amy
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Full name").fill("Jon Smith")
    page.get_by_label("Day").fill("3")
    page.get_by_label("Month").fill("7")
    page.get_by_label("Year").fill("1985")
    page.get_by_label("Prison (optional)").fill("HMP Birmingham")
    _axe_clean(page)
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Phone calls").check()
    page.get_by_label("Contact through another prisoner").check()
    page.get_by_label("Tell us what happened").fill("He rings every night from prison.")
    _axe_clean(page)
    page.get_by_role("button", name="Continue").click()

    assert "Check your answers" in page.content()
    assert "Amy Doe" in page.content()
    assert "Jane Doe" in page.content()
    _axe_clean(page)
    page.get_by_role("button", name="Accept and send").click()

    reference = page.locator("#reference").inner_text()
    assert reference.startswith("UPC-")
    assert "Jane" not in page.content()
    _axe_clean(page)

    with live_server.container.engine.connect() as conn:
        case = conn.execute(select(contact_cases)).one()
        people = conn.execute(select(contact_protected_people)).all()
    assert case.reference == reference
    assert case.requester_type == "victim_service"
    assert len(people) == 2
