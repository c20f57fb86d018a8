"""Dead letters an operator can find and replay: stored with their bytes, listed and shown by the
command line, replayed by the running process onto its bus, every request audited."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.bus.test_buses import _fix
from tests.conftest import csrf_from
from tests.people.registry import as_user, build_registry
from vigil.bootstrap import Container
from vigil.bus import dead_letters
from vigil.bus.codec import encode
from vigil.bus.model import Topic
from vigil.cli import app as cli
from vigil.security.model import SYSTEM
from vigil.security.tables import audit_log


async def test_a_dead_letter_is_listed_shown_and_replayed_onto_the_bus(
    cli_env: CliRunner, container: Container
) -> None:
    fix = _fix("356307042441013", 5)
    sink = dead_letters.StoredDeadLetters(container.uow)
    await sink.put(Topic.FIXES, encode(fix), "StatementError: the trail store was misconfigured")

    listed = cli_env.invoke(cli, ["bus", "dead-letters", "list"])
    assert listed.exit_code == 0, listed.output
    assert "misconfigured" in listed.output
    assert "waiting" in listed.output
    [letter] = _letters(container)
    shown = cli_env.invoke(cli, ["bus", "dead-letters", "show", str(letter.id)])
    assert "356307042441013" in shown.output
    assert cli_env.invoke(cli, ["bus", "dead-letters", "show", "999"]).exit_code == 1

    asked = cli_env.invoke(cli, ["bus", "dead-letters", "replay", str(letter.id)])
    assert asked.exit_code == 0, asked.output
    received: list[Any] = []

    async def handler(batch: list[Any]) -> None:
        received.extend(batch)

    container.bus.subscribe(Topic.FIXES, handler)
    assert await dead_letters.replay_requested(container.uow, container.bus) == 1
    await container.bus.drain()  # type: ignore[attr-defined]
    assert received == [fix]
    [letter] = _letters(container)
    assert letter.status == "replayed"
    assert await dead_letters.replay_requested(container.uow, container.bus) == 0
    with container.engine.connect() as connection:
        actions = set(connection.execute(select(audit_log.c.action)).scalars())
    assert "bus.dead_letter.replay_requested" in actions


def _letters(container: Container) -> list[dead_letters.DeadLetter]:
    with container.uow() as uow:
        return dead_letters.list_dead_letters(uow, SYSTEM)


def test_an_administrator_sees_and_replays_dead_letters_in_the_pages_and_no_one_else_does(
    client: TestClient, container: Container
) -> None:
    build_registry(container)
    sink = dead_letters.StoredDeadLetters(container.uow)
    client.portal.call(sink.put, Topic.FIXES, encode(_fix("356307042441013", 5)), "ValueError: x")  # type: ignore[union-attr]
    [letter] = _letters(container)

    as_user(client, "admin")
    page = client.get("/admin/dead-letters")
    assert page.status_code == 200
    assert "ValueError: x" in page.text
    csrf = csrf_from(page.text)
    replayed = client.post(
        f"/admin/dead-letters/{letter.id}/replay",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert replayed.status_code == 303
    [letter] = _letters(container)
    assert letter.status == "replay requested"
    assert letter.replay_requested_by is not None
    assert letter.replay_requested_by.endswith(":admin")
    assert (
        client.post("/admin/dead-letters/999/replay", data={"csrf_token": csrf}).status_code == 404
    )

    for user in ("operator", "officer", "analyst"):
        as_user(client, user)
        assert client.get("/admin/dead-letters").status_code == 403, user
