from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import log_in
from vigil.cli import app as cli


def test_user_add_reads_the_password_from_stdin_and_the_user_can_log_in(
    cli_env: CliRunner, client: TestClient
) -> None:
    result = cli_env.invoke(
        cli, ["user", "add", "auditor1", "--role", "auditor"], input="a long enough password\n"
    )
    assert result.exit_code == 0, result.output
    log_in(client, "auditor1", "a long enough password")
    assert client.get("/api/me").json()["role"] == "auditor"


def test_user_add_names_the_bad_field(cli_env: CliRunner) -> None:
    result = cli_env.invoke(cli, ["user", "add", "x", "--role", "wizard"], input="whatever123\n")
    assert result.exit_code == 2
    assert "role" in result.output
    short = cli_env.invoke(cli, ["user", "add", "y", "--role", "admin"], input="short\n")
    assert short.exit_code == 2
    assert "password" in short.output


def test_token_create_prints_a_token_once_that_authenticates(
    cli_env: CliRunner, client: TestClient
) -> None:
    result = cli_env.invoke(cli, ["token", "create", "--role", "prison_system", "--name", "phones"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("vgl_")
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "prison_system"
