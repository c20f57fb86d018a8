from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import csrf_from, log_in
from vigil.bootstrap import Container
from vigil.security import machine_tokens, service
from vigil.security.model import Role


def _operator(container: Container) -> None:
    with container.uow() as uow:
        service.add_user(
            uow, username="op1", password="correct horse battery", role=Role.MONITORING_OPERATOR
        )
        uow.commit()


def test_unauthenticated_api_calls_get_401(client: TestClient) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert "authorization" in response.json()["detail"]


def test_unknown_bearer_token_gets_401(client: TestClient) -> None:
    response = client.get("/api/me", headers={"Authorization": "Bearer vgl_nope"})
    assert response.status_code == 401


def test_machine_token_authenticates_the_api(client: TestClient, container: Container) -> None:
    with container.uow() as uow:
        token = machine_tokens.create_token(uow, role=Role.PRISON_SYSTEM, name="HMP phones")
        uow.commit()
    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["role"] == "prison_system"
    assert response.json()["machine"] is True


def test_pages_redirect_to_login_when_signed_out(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_login_with_wrong_password_names_the_field(
    client: TestClient, container: Container
) -> None:
    _operator(container)
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"username": "op1", "password": "wrong-password", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "The username or password is not right" in response.text


def test_login_form_without_csrf_token_is_refused(client: TestClient, container: Container) -> None:
    _operator(container)
    client.get("/login")
    response = client.post("/login", data={"username": "op1", "password": "correct horse battery"})
    assert response.status_code == 403


def test_session_form_post_without_csrf_token_is_refused(
    client: TestClient, container: Container
) -> None:
    _operator(container)
    csrf = log_in(client, "op1", "correct horse battery")
    refused = client.post("/logout", follow_redirects=False)
    assert refused.status_code == 403
    accepted = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert accepted.status_code == 303


def test_session_cookie_is_httponly_and_samesite(client: TestClient, container: Container) -> None:
    _operator(container)
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "op1", "password": "correct horse battery", "csrf_token": token},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_logins_are_audited(client: TestClient, container: Container) -> None:
    _operator(container)
    log_in(client, "op1", "correct horse battery")
    from sqlalchemy import select

    from vigil.security.tables import audit_log

    with container.engine.connect() as conn:
        actions = conn.execute(select(audit_log.c.action)).scalars().all()
    assert "login.success" in actions
