"""Signing in with a password in Chromium: guessing meets a growing wait the page explains, and
two-step sign-in is set up from the page's key, then asked for after the password."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp

from tests.browser import LiveServer
from vigil.security import service, throttle
from vigil.security.model import Role

PASSWORD = "a-long-enough-password-for-browsers"


def _user(server: LiveServer, username: str, role: Role = Role.MONITORING_OPERATOR) -> None:
    with server.container.uow() as uow:
        service.add_user(uow, username=username, password=PASSWORD, role=role)
        uow.commit()


def _sign_in(page: Any, server: LiveServer, username: str, password: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_guessing_a_password_meets_a_wait_the_page_explains(
    page: Any, live_server: LiveServer
) -> None:
    _user(live_server, "op.guessed")
    for guess in range(throttle.FREE_FAILURES):
        _sign_in(page, live_server, "op.guessed", f"wrong-guess-{guess}")
        assert "The username or password is not right" in page.locator("main").inner_text()
    _sign_in(page, live_server, "op.guessed", "wrong-again")
    # Now even the right password waits: no password is tried while the account is held.
    _sign_in(page, live_server, "op.guessed", PASSWORD)
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Too many attempts. Wait" in summary
    assert page.request.get(f"{live_server.url}/api/me").status == 401


def test_two_step_sign_in_is_set_up_from_the_page_then_asked_for(
    page: Any, live_server: LiveServer
) -> None:
    _user(live_server, "op.careful")
    _sign_in(page, live_server, "op.careful", PASSWORD)
    page.goto(f"{live_server.url}/account/two-factor")
    assert page.locator(".vigil-qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text().strip()
    app = pyotp.TOTP(secret)
    # The authenticator app keeps the server's time (the live server runs on a fixed calendar).
    clock = live_server.container.clock
    page.get_by_label("Code from your app").fill(app.at(clock.now()))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.locator("#recovery-codes").wait_for()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("button", name="Sign out", exact=True).click()

    # The password alone now leads to the code page; the app's next code opens the session.
    _sign_in(page, live_server, "op.careful", PASSWORD)
    assert page.get_by_role("heading", name="Enter the code from your authenticator app").count()
    page.get_by_label("Security code").fill(app.at(clock.now() + timedelta(seconds=30)))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.request.get(f"{live_server.url}/api/me").json()["name"] == "op.careful"
    page.get_by_role("button", name="Sign out", exact=True).click()

    # A recovery code works once, when the phone is lost.
    _sign_in(page, live_server, "op.careful", PASSWORD)
    page.get_by_label("Security code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.request.get(f"{live_server.url}/api/me").status == 200
