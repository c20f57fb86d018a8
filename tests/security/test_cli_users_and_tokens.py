from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text
from typer.testing import CliRunner

from tests.conftest import log_in
from vigil.bootstrap import Container
from vigil.cli import app as cli
from vigil.clock import FrozenClock
from vigil.db import migrate
from vigil.db.engine import build_engine
from vigil.errors import ValidationError
from vigil.security import machine_tokens
from vigil.security.model import Role
from vigil.security.tables import api_tokens


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
            uow, role="device_gateway", name="gw", lifetime=timedelta(days=30)
        )
        uow.commit()
    with container.uow() as uow:
        token_id = machine_tokens.list_tokens(uow)[0].id
        new = machine_tokens.rotate_token(uow, token_id, "test", lifetime=timedelta(days=30))
        uow.commit()

    def works(token: str) -> bool:
        with container.uow() as uow:
            return machine_tokens.token_principal(uow, token) is not None

    assert (works(old), works(new)) == (True, True)  # an hour's overlap to switch over
    clock.advance(timedelta(hours=2))
    assert (works(old), works(new)) == (False, True)
    clock.advance(timedelta(days=31))
    assert works(new) is False


def test_tokens_are_for_machines_and_an_old_persons_token_signs_nobody_in(
    container: Container,
) -> None:
    with container.uow() as uow:
        with pytest.raises(ValidationError, match="person's role"):
            machine_tokens.create_token(uow, role=Role.ADMIN, name="an admin's script")
        # A token an older Vigil issued for a person's role is still in the table.
        uow.connection.execute(
            insert(api_tokens).values(
                name="old admin token",
                role=Role.ADMIN.value,
                token_hash=hashlib.sha256(b"vgl_old").hexdigest(),
                created_at=uow.clock.now(),
                expires_at=uow.clock.now() + timedelta(days=30),
            )
        )
        uow.commit()
    with container.uow() as uow:
        assert machine_tokens.token_principal(uow, "vgl_old") is None


def test_tokens_made_before_expiry_existed_get_ninety_days_on_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "security_0004")
    engine = build_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO api_tokens (name, role, token_hash, created_at) "
                "VALUES ('phones', 'prison_system', 'abc', '2025-01-01 00:00:00')"
            )
        )
    migrate.upgrade(url)
    with engine.connect() as conn:
        expires = conn.execute(select(api_tokens.c.expires_at)).scalar_one()
    engine.dispose()
    assert expires is not None
    # Ninety days from the upgrade: the wall clock, since migrations run in real time.
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
