"""Probation plans a barred prisoner's release in a real browser: the release plan lists him with
the zone proposed around the barred address, one click opens the order editor with that zone
drawn on the map, and the tagged wearer's page tells his prison contact and matrix place."""

from __future__ import annotations

from typing import Any

from tests.browser import LiveServer, map_problems
from tests.e2e.helpers import screenshot
from vigil.links.demo import RELEASED_SOON_NUMBER
from vigil.people import service as people
from vigil.security.model import SYSTEM
from vigil.sim.demo import DEMO_PASSWORD, seed_demo


def _sign_in(page: Any, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", "officer")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_the_officer_starts_an_order_from_a_proposed_zone(
    live_server: LiveServer, page: Any
) -> None:
    seed_demo(live_server.container)
    _sign_in(page, live_server.url)
    page.get_by_role("link", name="Release planning").first.click()
    page.wait_for_url(f"{live_server.url}/release-plan")
    candidate = page.locator(f"[data-prison-number={RELEASED_SOON_NUMBER}]")
    assert "Darren Walsh" in candidate.inner_text()
    assert "a 500 m circle around SE1 2DL" in candidate.inner_text()
    screenshot(page, "release-plan")

    candidate.get_by_role("link", name="start an order with this zone").click()
    page.wait_for_url("**/orders/new?**")
    assert page.input_value("#exclusion_postcode") == "SE1 2DL"
    assert page.input_value("#exclusion_lat") == "51.498972"
    page.wait_for_function("() => document.querySelector('.vigil-map').vigilMap !== undefined")
    assert map_problems(page) == []


def test_the_wearers_page_tells_his_prison_contact_and_matrix_place(
    live_server: LiveServer, page: Any
) -> None:
    seed_demo(live_server.container)
    with live_server.container.uow() as uow:
        wearer = min(people.list_persons(uow, SYSTEM), key=lambda p: p.id)
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/persons/{wearer.id}#links")
    story = page.locator("[data-testid=person-story]")
    assert story.locator("[data-testid=contact-attempts] li").count() == 2
    assert "Ranked" in story.locator("[data-testid=matrix-position]").inner_text()
    story.scroll_into_view_if_needed()
    screenshot(page, "person-story")
