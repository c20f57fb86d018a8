"""A police user finishes crime matching in a real browser (Chromium, no help from the test
client): upload, a run, the confidence read in words, a match confirmed and the confirmed matches
downloaded; axe-core finds no serious or critical problem on the run page."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.browser import LiveServer
from tests.e2e.helpers import serious_violations
from tests.evidence import registry
from tests.evidence.test_api import PASSWORD, store_walk, wmp_wearer
from tests.evidence.test_crime_pages import NIGHTJAR
from vigil.security.model import Role


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_police_user_uploads_runs_confirms_and_downloads_in_a_browser(
    live_server: LiveServer, page: Any, tmp_path: Any
) -> None:
    container = live_server.container
    store_walk(container, wmp_wearer(container))
    registry.add_user(container, "pc.wmp", Role.POLICE, PASSWORD, force_area="WMP")
    base = live_server.url
    _sign_in(page, base, "pc.wmp")

    page.goto(f"{base}/evidence/crime")
    batch = tmp_path / "nightjar.csv"
    batch.write_text(NIGHTJAR)
    page.set_input_files("#file", str(batch))
    page.fill("#reason", "Operation Nightjar")
    page.click("form[action='/evidence/crime/upload'] button")
    page.wait_for_url("**/evidence/crime/batches/*")
    assert "All 2 rows kept" in page.inner_text("main")
    page.fill("#radius_m", "80")
    page.fill("#reason", "Operation Nightjar review")
    page.click("form[action$='/run'] button")
    page.wait_for_url("**/evidence/crime/runs/*")

    inside = page.locator("section", has_text="WM-001")
    assert "High (1.00)" in inside.inner_text()
    assert "Burglary in a dwelling" in inside.inner_text()
    assert serious_violations(page) == []
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
    inside.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    assert "Confirmed by pc.wmp" in page.locator("section", has_text="WM-001").inner_text()

    page.select_option("#format", "csv")
    with page.expect_download() as download:
        page.click("form[action$='/export'] button")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [(r["crime_reference"], r["crime_type"]) for r in rows] == [
        ("WM-001", "Burglary in a dwelling")
    ]
