"""A second factor: enrolment with a QR code and a first code, then sign-in asks for a code after
the password; each code works once; recovery codes work once; wrong codes are throttled."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import csrf_from, log_in
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.security import service
from vigil.security.model import Role
from vigil.security.tables import audit_log

PASSWORD = "correct horse battery staple"


def _enrol(client: TestClient, clock: FrozenClock) -> tuple[str, list[str]]:
    csrf = log_in(client, "op1", PASSWORD)
    page = client.get("/account/two-factor")
    assert "<svg" in page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret
    wrong = client.post("/account/two-factor", data={"csrf_token": csrf, "code": "000000"})
    assert wrong.status_code == 400
    code = pyotp.TOTP(secret.group(1)).at(clock.now())
    done = client.post("/account/two-factor", data={"csrf_token": csrf, "code": code})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", done.text)
    assert len(codes) == 10
    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.clear()
    return secret.group(1), codes


def _password_step(client: TestClient) -> tuple[str, int]:
    token = csrf_from(client.get("/login").text)
    page = client.post(
        "/login", data={"username": "op1", "password": PASSWORD, "csrf_token": token}
    )
    return token, page.status_code


def _code_step(client: TestClient, token: str, code: str) -> int:
    return client.post(
        "/login/code", data={"code": code, "csrf_token": token}, follow_redirects=False
    ).status_code


def test_enrol_then_sign_in_needs_the_code(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    with container.uow() as uow:
        service.add_user(uow, username="op1", password=PASSWORD, role=Role.MONITORING_OPERATOR)
        uow.commit()
    secret, recovery = _enrol(client, clock)
    clock.advance(timedelta(seconds=60))

    token, status = _password_step(client)
    assert status == 200  # the code page, not a session
    assert client.get("/api/me").status_code == 401
    assert _code_step(client, token, "123456") == 400
    code = pyotp.TOTP(secret).at(clock.now())
    assert _code_step(client, token, code) == 303
    assert client.get("/api/me").json()["name"] == "op1"

    # The same code again (a shoulder-surfer's replay) does not work.
    client.cookies.clear()
    token, _ = _password_step(client)
    assert _code_step(client, token, code) == 400

    # A recovery code works once.
    assert _code_step(client, token, recovery[0]) == 303
    client.cookies.clear()
    token, _ = _password_step(client)
    assert _code_step(client, token, recovery[0]) == 400
    with container.engine.connect() as conn:
        actions = set(conn.execute(select(audit_log.c.action)).scalars())
    assert {"two_factor.enabled", "two_factor.recovery_code_used"} <= actions


def test_the_code_step_cannot_be_reached_without_the_password(
    client: TestClient, container: Container
) -> None:
    with container.uow() as uow:
        service.add_user(uow, username="op1", password=PASSWORD, role=Role.MONITORING_OPERATOR)
        uow.commit()
    token = csrf_from(client.get("/login").text)
    client.cookies.set("vigil_second_factor", "1.9999999999.forged")
    assert _code_step(client, token, "123456") == 403


def test_in_production_staff_who_see_victims_details_must_set_it_up_first(
    container: Container, clock: FrozenClock
) -> None:
    from vigil.settings import Environment
    from vigil.web.app import create_app

    container.settings = container.settings.model_copy(
        update={"environment": Environment.PRODUCTION, "public_base_url": "https://vigil.example"}
    )
    client = TestClient(create_app(container), base_url="https://testserver")
    with container.uow() as uow:
        service.add_user(uow, username="op1", password=PASSWORD, role=Role.MONITORING_OPERATOR)
        service.add_user(uow, username="analyst", password=PASSWORD, role=Role.ANALYST)
        uow.commit()
    csrf = log_in_production(client, "op1")
    home = client.get("/", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (303, "/account/two-factor")
    assert client.get("/api/persons").status_code == 403
    page = client.get("/account/two-factor")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret
    code = pyotp.TOTP(secret.group(1)).at(clock.now())
    client.post("/account/two-factor", data={"csrf_token": csrf, "code": code})
    assert client.get("/", follow_redirects=False).status_code == 200
    assert client.get("/api/persons").status_code == 200

    # The matrix analyst sees neither victims' details nor trails: not required.
    client.cookies.clear()
    log_in_production(client, "analyst")
    assert client.get("/", follow_redirects=False).status_code == 200


def log_in_production(client: TestClient, username: str) -> str:
    token = csrf_from(client.get("/login").text)
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    return csrf_from(client.get("/account/two-factor").text)


def test_visiting_the_page_again_does_not_replace_a_working_app(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    with container.uow() as uow:
        service.add_user(uow, username="op1", password=PASSWORD, role=Role.MONITORING_OPERATOR)
        uow.commit()
    secret, _ = _enrol(client, clock)
    clock.advance(timedelta(seconds=60))
    token, _ = _password_step(client)
    assert _code_step(client, token, pyotp.TOTP(secret).at(clock.now())) == 303
    page = client.get("/account/two-factor")
    assert "Two-step sign-in is on" in page.text
    assert "totp-secret" not in page.text
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    client.cookies.clear()
    clock.advance(timedelta(seconds=60))
    token, _ = _password_step(client)
    assert _code_step(client, token, pyotp.TOTP(secret).at(clock.now())) == 303
