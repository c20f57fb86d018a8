"""The demo officer logs in with a real browser and sees their caseload."""

from __future__ import annotations

from typing import Any

from tests.browser import LiveServer
from vigil.sim.demo import DEMO_PASSWORD, seed_demo


def test_demo_officer_logs_in_and_sees_the_birmingham_caseload(
    live_server: LiveServer, page: Any
) -> None:
    seed_demo(live_server.container)
    page.goto(f"{live_server.url}/caseload")
    assert "/login" in page.url  # signed out: sent to sign in first
    page.fill("#username", "officer")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/caseload")
    assert page.locator("h1").inner_text() == "Caseload"
    rows = page.locator("[data-testid=caseload] tbody tr")
    assert rows.count() == 11  # ten wearers and a prisoner due out
    assert "Birmingham North" in rows.first.inner_text()
    assert "Domestic abuse" in page.locator("[data-testid=caseload]").inner_text()
    assert "Nottingham City" not in page.content()

    rows.first.locator("a").first.click()
    page.wait_for_url(f"{live_server.url}/persons/*")
    assert page.get_by_role("heading", name="Orders").is_visible()
    assert "GPS tag" in page.content()
