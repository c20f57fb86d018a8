"""Notifications of new critical alerts are each a user's own choice, stored per user from the
account page and read by the alert queue page; the chime is made in code and served by Vigil."""

from __future__ import annotations

import io
import json
import wave

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import log_in
from vigil.alerts.chime import critical_alert_chime
from vigil.bootstrap import Container
from vigil.security.tables import audit_log
from vigil.sim.demo import DEMO_PASSWORD


def test_notifications_are_off_until_the_user_chooses_them_and_are_theirs_alone(
    demo: Container, demo_client: TestClient
) -> None:
    token = log_in(demo_client, "operator", DEMO_PASSWORD)
    queue = demo_client.get("/alerts/queue").text
    assert "data-notify-" not in queue
    assert 'href="/account">choose them on your account page' in queue
    account = demo_client.get("/account").text
    assert "checked" not in account.split("New critical alerts")[1]

    saved = demo_client.post(
        "/account/alert-notifications",
        data={"csrf_token": token, "notify": ["sound", "tab_title_count", "fireworks"]},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert 'id="notify-sound" name="notify" type="checkbox" value="sound" aria-describedby' in (
        demo_client.get("/account").text
    )
    queue = demo_client.get("/alerts/queue").text
    assert 'data-notify-sound="/alerts/sounds/critical.wav"' in queue
    assert 'data-notify-title="on"' in queue
    assert "data-notify-desktop" not in queue  # not chosen
    with demo.uow() as uow:
        recorded = uow.connection.execute(
            select(audit_log.c.detail).where(audit_log.c.action == "user.alert_preferences")
        ).scalar_one()
    chosen = {"sound": True, "desktop_notification": False, "tab_title_count": True}
    assert json.loads(recorded) == chosen

    demo_client.cookies.clear()
    log_in(demo_client, "officer", DEMO_PASSWORD)  # another user's queue is unchanged
    assert "data-notify-" not in demo_client.get("/alerts/queue").text


def test_the_account_form_needs_its_csrf_token(demo: Container, demo_client: TestClient) -> None:
    log_in(demo_client, "operator", DEMO_PASSWORD)
    refused = demo_client.post("/account/alert-notifications", data={"notify": "sound"})
    assert refused.status_code == 403
    assert "data-notify-sound" not in demo_client.get("/alerts/queue").text


def test_the_chime_is_a_short_wav_served_by_vigil_to_signed_in_staff(
    demo: Container, demo_client: TestClient
) -> None:
    with wave.open(io.BytesIO(critical_alert_chime())) as chime:
        seconds = chime.getnframes() / chime.getframerate()
    assert 0.2 < seconds < 1.0
    assert demo_client.get("/alerts/sounds/critical.wav", follow_redirects=False).status_code in (
        303,
        401,
    )
    log_in(demo_client, "operator", DEMO_PASSWORD)
    served = demo_client.get("/alerts/sounds/critical.wav")
    assert served.headers["content-type"] == "audio/wav"
    assert served.content == critical_alert_chime()
