"""An operator who chose them on their account page gets a sound, a desktop notification and a
count in the tab title when a new critical alert reaches the live queue; a browser that refuses
notifications is told about on the page, never with a script error (the ``page`` fixture fails
on any). The browser's own Audio and Notification are watched, not replaced: each call still
goes through to Chromium."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser import LiveServer
from tests.demo_pilot import person_in, raise_alert
from tests.e2e.helpers import log_in, screenshot
from vigil.engine.events import EventKind
from vigil.sim.demo import seed_demo

# Counts what the page asks of the browser, then hands the call on to the real thing.
WATCH = """
window.vigilSeen = {played: 0, notified: []};
const realPlay = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  window.vigilSeen.played += 1;
  return realPlay.call(this);
};
if (window.Notification) {
  const Real = window.Notification;
  const Watched = function (title, options) {
    window.vigilSeen.notified.push([title, options.body]);
    return new Real(title, options);
  };
  Object.defineProperty(Watched, 'permission', {get: () => Real.permission});
  Watched.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Watched;
}
"""


def _choose_everything(page: Any, base: str) -> None:
    page.goto(f"{base}/account")
    for box in ("sound", "desktop_notification", "tab_title_count"):
        page.check(f"#notify-{box}")
    page.click("form[action='/account/alert-notifications'] button")
    page.wait_for_url(f"{base}/account?saved=1")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("saved")


def test_a_new_critical_alert_sounds_notifies_and_counts_in_the_tab_title(
    live_server: LiveServer, page: Any
) -> None:
    base, container = live_server.url, live_server.container
    seed_demo(container)
    wearer = person_in(container, "Birmingham North")
    waiting = raise_alert(container, wearer.id, EventKind.BATTERY_LOW)
    page.context.grant_permissions(["notifications"], origin=base)
    page.add_init_script(WATCH)
    log_in(page, base, "operator")
    _choose_everything(page, base)

    page.goto(f"{base}/alerts/queue")
    expect(page.locator("#queue-connection")).to_contain_text("on")
    expect(page.locator("#queue-notify-offer")).to_be_hidden()  # already granted
    before = page.title()
    strap = raise_alert(container, wearer.id, EventKind.STRAP_REMOVED)
    # Any change on the stream makes the page fetch the queue again; the strap alert is new in it.
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    claimed = page.context.request.post(
        f"{base}/alerts/{waiting}/claim", form={"csrf_token": token}, max_redirects=0
    )
    assert claimed.status == 303
    page.locator(f"tr[data-alert-id='{strap}']").wait_for(timeout=15_000)

    seen = page.evaluate("window.vigilSeen")
    assert seen["played"] == 1
    assert seen["notified"] == [
        ["Critical alert: Tag strap removed", f"{wearer.full_name} {wearer.crn}"]
    ]
    waiting_critical = page.locator("tr[data-severity='critical'][data-status='new']").count()
    expect(page).to_have_title(re.compile(rf"^\({waiting_critical}\) Alert queue"))
    assert not before.startswith(f"({waiting_critical})")
    screenshot(page, "queue-notifications")


def test_without_permission_the_queue_offers_the_button_and_says_when_it_is_refused(
    live_server: LiveServer, page: Any
) -> None:
    base = live_server.url
    seed_demo(live_server.container)
    log_in(page, base, "operator")
    page.goto(f"{base}/alerts/queue")
    expect(page.locator("[data-testid=queue-notify]")).to_contain_text("account page")
    assert not page.title().startswith("(")  # nothing chosen: the title stays as it was
    _choose_everything(page, base)
    page.goto(f"{base}/alerts/queue")
    expect(page.locator("#queue-connection")).to_contain_text("on")
    button = page.locator("#queue-notify-permission")
    expect(button).to_be_visible()  # headless Chromium has not been asked yet
    button.click()
    # Headless Chromium answers a permission request with "denied".
    expect(page.locator("#queue-notify-status")).to_contain_text("not allowed")
