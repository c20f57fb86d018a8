from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import log_in
from vigil.bootstrap import Container
from vigil.cli import app as cli
from vigil.clock import FrozenClock
from vigil.security import machine_tokens


def test_user_add_reads_the_password_from_stdin_and_the_user_can_log_in(
    cli_env: CliRunner, client: TestClient
) -> None:
    result = cli_env.invoke(
        cli,
        ["security", "user", "add", "auditor1", "--role", "auditor"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    log_in(client, "auditor1", "a long enough password")
    assert client.get("/api/me").json()["role"] == "auditor"


def test_user_add_names_the_bad_field(cli_env: CliRunner) -> None:
    result = cli_env.invoke(
        cli, ["security", "user", "add", "x", "--role", "wizard"], input="whatever123\n"
    )
    assert result.exit_code == 2
    assert "role" in result.output
    short = cli_env.invoke(
        cli, ["security", "user", "add", "y", "--role", "admin"], input="short\n"
    )
    assert short.exit_code == 2
    assert "password" in short.output


def test_token_create_prints_a_token_once_that_authenticates(
    cli_env: CliRunner, client: TestClient
) -> None:
    result = cli_env.invoke(
        cli, ["security", "token", "create", "--role", "prison_system", "--name", "phones"]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("vgl_")
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "prison_system"


def test_token_create_refuses_peoples_roles(cli_env: CliRunner) -> None:
    for role in ("admin", "monitoring_operator", "police"):
        result = cli_env.invoke(cli, ["security", "token", "create", "--role", role, "--name", "x"])
        assert result.exit_code == 2, result.output
        assert "person's role" in result.output


def test_token_rotate_prints_a_new_token(cli_env: CliRunner) -> None:
    made = cli_env.invoke(
        cli,
        ["security", "token", "create", "--role", "device_gateway", "--name", "gw", "--days", "30"],
    )
    old = made.stdout.strip().splitlines()[-1]
    token_id = cli_env.invoke(cli, ["security", "token", "list"]).stdout.split("\t")[0]
    rotated = cli_env.invoke(cli, ["security", "token", "rotate", token_id])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.stdout.strip().splitlines()[-1]
    assert new != old
    assert new.startswith("vgl_")
    assert cli_env.invoke(cli, ["security", "token", "rotate", "999"]).exit_code == 2


def test_tokens_expire_and_a_rotated_one_ends_after_the_overlap(
    container: Container, clock: FrozenClock
) -> None:
    with container.uow() as uow:
        old = machine_tokens.create_token(
            uow, role="device_gateway", name="gw", lifetime=timedelta(days=30), machine_only=True
        )
    with container.uow() as uow:
        token_id = int(machine_tokens.list_tokens(uow)[0]["id"])  # type: ignore[call-overload]
        new = machine_tokens.rotate_token(uow, token_id, "test", lifetime=timedelta(days=30))

    def works(token: str) -> bool:
        with container.uow() as uow:
            return machine_tokens.token_principal(uow, token) is not None

    assert (works(old), works(new)) == (True, True)  # an hour's overlap to switch over
    clock.advance(timedelta(hours=2))
    assert (works(old), works(new)) == (False, True)
    clock.advance(timedelta(days=31))
    assert works(new) is False
