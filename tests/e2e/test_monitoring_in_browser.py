"""The monitoring pages in a real browser: a breaching fix sent through the OsmAnd gateway
becomes an alert that appears live in the operator's queue, is acknowledged and resolved with the
keyboard; an officer creates an order with a zone by postcode and a curfew; a police user cannot
open an alert outside their force area. Every page is checked with axe-core."""

from __future__ import annotations

import time
import urllib.request
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import expect

from tests.browser import LiveServer
from tests.conftest import FIXTURES
from tests.demo_pilot import exclusion_zone, person_in, raise_alert
from tests.e2e import helpers
from tests.e2e.helpers import log_in, screenshot, serious_violations
from vigil.devices import service as devices
from vigil.engine.events import EventKind
from vigil.geo import postcodes
from vigil.security.model import SYSTEM
from vigil.sim.demo import seed_demo

live_server_with_services = helpers.live_server_with_services  # the fixture, used by name


def _send_osmand(door: str, key: str, device: str, lat: float, lon: float, at: float) -> None:
    query = urlencode(
        {"id": device, "lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "timestamp": int(at),
         "accuracy": "5", "batt": "80"}
    )  # fmt: skip
    url = f"{door}/{key}?{query}"  # the OsmAnd device door, as a phone would send it
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        assert response.status == 200


def test_an_operator_sees_a_breach_arrive_live_then_acknowledges_and_resolves_it(
    live_server_with_services: LiveServer, page: Any
) -> None:
    server = live_server_with_services
    base = server.url
    wearer = person_in(server.container, "Birmingham North")
    _condition, zone = exclusion_zone(server.container, wearer.id)
    lon, lat = zone["geometry"]["coordinates"]  # type: ignore[index]
    with server.container.uow() as uow:
        tag = next(d for d in devices.list_devices(uow, SYSTEM, wearer.id) if d.type == "gps_tag")

    log_in(page, base, "operator")
    page.goto(f"{base}/alerts/queue")
    # Locator waits, not wait_for_function: the page's CSP allows no eval of a string.
    expect(page.locator("#queue-connection")).to_contain_text("on")
    assert serious_violations(page) == []
    before = page.locator("[data-testid=queue] tr[data-alert-id]").count()

    # The wearer walks into the protected person's zone: a fix every 20 s, right at its centre.
    now = server.container.clock.now().timestamp()
    for step in range(6):
        key = server.device_keys[tag.external_id]
        _send_osmand(server.osmand_url, key, tag.external_id, lat, lon, now - 100 + step * 20)
    row = page.locator("[data-testid=queue] tr[data-alert-id]", has_text="exclusion zone").first
    row.wait_for(timeout=30_000)  # arrives over server-sent events, no reload
    assert page.locator("[data-testid=queue] tr[data-alert-id]").count() > before
    assert row.get_attribute("data-severity") in ("critical", "high")
    assert wearer.last_name in row.inner_text()
    screenshot(page, "queue")

    # Keyboard only: tab to the alert's link, open it, acknowledge, then resolve.
    link = row.locator("a")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/alerts/*")
    page.locator(".leaflet-container").wait_for()
    assert serious_violations(page) == []
    page.focus("#ack_note")
    page.keyboard.type("Taking this one.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**done=acknowledge")
    assert page.locator("[data-testid=alert-status]").inner_text() == "acknowledged"
    page.focus("#resolve_outcome")
    page.select_option("#resolve_outcome", "genuine_violation")
    page.focus("#resolve_note")
    page.keyboard.type("Protected person safe; police attended and the wearer left.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**done=resolve")
    assert page.locator("[data-testid=alert-status]").inner_text() == "resolved"
    assert "Genuine violation" in page.locator("[data-testid=resolution]").inner_text()


def test_an_officer_creates_an_order_with_a_zone_by_postcode_and_a_curfew(
    live_server: LiveServer, page: Any
) -> None:
    seed_demo(live_server.container)
    with live_server.container.uow() as uow:
        postcodes.load(uow, FIXTURES / "postcodes" / "onspd-extract.csv", actor="test")
        uow.commit()
    base = live_server.url
    wearer = person_in(live_server.container, "Birmingham North")
    log_in(page, base, "officer")

    page.goto(f"{base}/caseload")
    assert serious_violations(page) == []
    screenshot(page, "caseload")
    page.goto(f"{base}/persons/{wearer.id}")
    page.locator(".leaflet-container").wait_for()
    assert serious_violations(page) == []

    page.goto(f"{base}/persons/{wearer.id}/orders/new")
    page.fill("#starts_on", "2026-12-01")
    page.fill("#ends_on", "2027-05-31")
    page.check("#exclusion")
    page.fill("#exclusion_label", "Protected person's home")
    page.fill("#exclusion_postcode", "SE1 9ZZ")  # terminated in 1998
    page.click("button[data-find=exclusion]")
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert "terminated" in summary.inner_text()
    assert serious_violations(page) == []
    page.fill("#exclusion_postcode", "SE1 2DL")
    page.click("button[data-find=exclusion]")
    expect(page.locator("#exclusion_lat")).to_have_value("51.498972")
    page.fill("#exclusion_radius", "350")
    page.fill("#exclusion_buffer", "150")
    page.check("#curfew")
    page.fill("#curfew_address", "12 Example Road")
    page.fill("#curfew_lat", "51.51")
    page.fill("#curfew_lon", "-0.10")
    page.fill("#curfew_mon_start", "20:00")
    page.fill("#curfew_mon_end", "06:30")
    page.click("button[name=copy_from][value=mon]")
    assert page.input_value("#curfew_sun_start") == "20:00"
    assert page.input_value("#curfew_sun_end") == "06:30"
    assert serious_violations(page) == []
    page.click("button[name=action][value=save]")
    page.wait_for_url(f"{base}/orders/*")
    text = page.content().lower()
    assert "exclusion" in text
    assert "curfew" in text

    page.goto(f"{base}/persons/{wearer.id}/wearer-view")
    page.locator(".leaflet-container").wait_for()
    assert serious_violations(page) == []


def test_a_police_user_cannot_open_an_alert_outside_their_force_area(
    live_server: LiveServer, page: Any
) -> None:
    seed_demo(live_server.container)
    container = live_server.container
    inside = raise_alert(container, person_in(container, "Nottingham City").id, EventKind.SOS)
    outside = raise_alert(container, person_in(container, "Birmingham North").id, EventKind.SOS)
    base = live_server.url
    log_in(page, base, "police.notts")
    page.goto(f"{base}/alerts/queue")
    assert page.locator(f"tr[data-alert-id='{inside}']").count() == 1
    assert page.locator(f"tr[data-alert-id='{outside}']").count() == 0
    response = page.goto(f"{base}/alerts/{outside}")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    assert serious_violations(page) == []
    response = page.goto(f"{base}/alerts/{inside}")
    assert response.status == 200
    page.locator(".leaflet-container").wait_for()
    assert serious_violations(page) == []
    time.sleep(0)  # nothing asynchronous left to settle
