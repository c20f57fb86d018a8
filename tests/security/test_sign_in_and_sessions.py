"""Sign-in fit for this data: the issue's 50 wrong passwords in 10 seconds then the right one
gave a session; now failures per account and per client meet growing delays, a lockout is
written to the audit log and told to the user, and sessions can be ended everywhere."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import csrf_from, log_in
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.security import service, throttle
from vigil.security.model import Role
from vigil.security.tables import audit_log

PASSWORD = "correct horse battery staple"


def _users(container: Container) -> None:
    with container.uow() as uow:
        service.add_user(uow, username="admin", password=PASSWORD, role=Role.ADMIN)
        service.add_user(uow, username="op1", password=PASSWORD, role=Role.MONITORING_OPERATOR)
        uow.commit()


def _attempt(client: TestClient, username: str, password: str) -> int:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return response.status_code


def _actions(container: Container) -> list[str]:
    with container.engine.connect() as conn:
        return list(conn.execute(select(audit_log.c.action)).scalars())


def test_fifty_wrong_passwords_then_the_right_one_gets_no_session(
    client: TestClient, container: Container
) -> None:
    _users(container)
    statuses = [_attempt(client, "admin", f"guess-{i}") for i in range(50)]
    # The first failures are told plainly; then the account must wait and no password is tried.
    assert statuses[: throttle.FREE_FAILURES] == [400] * throttle.FREE_FAILURES
    assert set(statuses[throttle.FREE_FAILURES + 1 :]) == {429}
    assert _attempt(client, "admin", PASSWORD) == 429
    assert "login.throttled" in _actions(container)


def test_delays_grow_then_lockout_is_audited_and_told(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    _users(container)
    waits = []
    for failures in range(1, throttle.LOCKOUT_FAILURES + 1):
        assert _attempt(client, "admin", "wrong-password") == 400
        waits.append(throttle.delay_after(failures))
        clock.advance(throttle.delay_after(failures))
    assert waits[throttle.FREE_FAILURES :] == sorted(waits[throttle.FREE_FAILURES :])
    assert waits[-1] > waits[throttle.FREE_FAILURES]
    assert "login.locked" in _actions(container)
    clock.advance(-throttle.delay_after(throttle.LOCKOUT_FAILURES))
    token = csrf_from(client.get("/login").text)
    page = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert page.status_code == 429
    assert "This account is locked" in page.text
    # Once the wait is over the right password works, and the count starts again.
    clock.advance(throttle.MAX_DELAY)
    assert _attempt(client, "admin", PASSWORD) == 303


def test_a_client_guessing_many_accounts_is_slowed_too(
    client: TestClient, container: Container
) -> None:
    _users(container)
    for i in range(throttle.FREE_FAILURES + 1):
        _attempt(client, f"nobody-{i}", "wrong-password")
    # A different account, same client: still made to wait.
    assert _attempt(client, "op1", PASSWORD) == 429


def test_sign_out_everywhere_ends_every_session_of_the_user(container: Container) -> None:
    from vigil.web.app import create_app

    _users(container)
    app = create_app(container)
    laptop, phone = TestClient(app), TestClient(app)
    csrf = log_in(laptop, "op1", PASSWORD)
    log_in(phone, "op1", PASSWORD)
    assert phone.get("/api/me").status_code == 200
    laptop.post("/logout-everywhere", data={"csrf_token": csrf}, follow_redirects=False)
    assert phone.get("/api/me").status_code == 401
    assert laptop.get("/api/me").status_code == 401
    assert "sessions.end_all" in _actions(container)


def test_an_admin_ends_a_users_sessions(container: Container) -> None:
    from vigil.web.app import create_app

    _users(container)
    app = create_app(container)
    admin, user = TestClient(app), TestClient(app)
    log_in(user, "op1", PASSWORD)
    admin_csrf = log_in(admin, "admin", PASSWORD)
    me = user.get("/api/me").json()
    ended = admin.post(f"/api/users/{me['id']}/sessions/end", headers={"x-csrf-token": admin_csrf})
    assert ended.json() == {"ended": 1}
    assert user.get("/api/me").status_code == 401
    refused = user.post("/api/users/1/sessions/end")
    assert refused.status_code == 401


def test_throttle_delays_grow_to_a_cap() -> None:
    assert throttle.delay_after(throttle.FREE_FAILURES - 1) == timedelta(0)
    assert throttle.delay_after(throttle.FREE_FAILURES) == throttle.FIRST_DELAY
    assert throttle.delay_after(throttle.FREE_FAILURES + 1) == throttle.FIRST_DELAY * 2
    assert throttle.delay_after(1000) == throttle.MAX_DELAY


def test_an_idle_session_ends_and_an_active_one_lives_to_its_limit(
    container: Container, clock: FrozenClock
) -> None:
    from vigil.web.app import create_app

    container.settings = container.settings.model_copy(update={"session_idle_minutes": 30})
    client = TestClient(create_app(container))
    _users(container)
    log_in(client, "op1", PASSWORD)
    # Used every 20 minutes: still signed in after two hours.
    for _ in range(6):
        clock.advance(timedelta(minutes=20))
        assert client.get("/api/me").status_code == 200
    # Left for longer than the idle time-out: signed out.
    clock.advance(timedelta(minutes=30, seconds=1))
    assert client.get("/api/me").status_code == 401
