"""The prison-system check port answers exactly as the web app's call-check route does."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.contact.helpers import bearer, case_id_for, submit, tokens
from vigil.bootstrap import Container
from vigil.contact import checkport, warmup
from vigil.contact.tables import contact_attempts
from vigil.security import machine_tokens
from vigil.security import service as security_service


def _bar_estate(client: TestClient, token: str, case_id: int, number: str) -> None:
    response = client.post(
        f"/api/contact/cases/{case_id}/bars",
        json={"scope": "estate", "numbers": [number], "reason": "Victim is frightened"},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text


def _request(body: bytes, headers: dict[str, str], method: str = "POST", path: str = "") -> bytes:
    lines = [f"{method} {path or checkport.PATH} HTTP/1.1", "Host: phones"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _exchange(container: Container, payload: bytes, answers: int) -> list[tuple[int, Any]]:
    server = await checkport.start(container.check_port(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)
        out = []
        for _ in range(answers):
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ")[1])
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            out.append((status, json.loads(await reader.readexactly(length))))
        writer.close()
        return out
    finally:
        server.close()
        await server.wait_closed()


CASES: list[tuple[str, dict[str, Any], str]] = [
    ("refused", {"prison_number": "A1234BC", "number": "+44 (0)7700 900123"}, "prison"),
    ("allowed", {"prison_number": "A1234BC", "number": "07700 900999"}, "prison"),
    ("bad number", {"prison_number": "A1234BC", "number": "call me"}, "prison"),
    ("bad prisoner", {"prison_number": "12", "number": "07700 900123"}, "prison"),
    ("wrong role", {"prison_number": "A1234BC", "number": "07700 900123"}, "gateway"),
    ("unknown token", {"prison_number": "A1234BC", "number": "07700 900123"}, "nobody"),
    ("no token", {"prison_number": "A1234BC", "number": "07700 900123"}, ""),
]


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_check_port_gives_the_web_apps_answers_and_records_refusals(
    client: TestClient, container: Container, warm: bool
) -> None:
    keys = {**tokens(container), "nobody": "vgl_not_a_token"}
    case_id = case_id_for(client, keys["handler"], submit(client))
    _bar_estate(client, keys["handler"], case_id, "07700 900123")
    if warm:
        warmup.warm(container.enforcement_index, container.engine)
    expected = []
    payload = b""
    for _, body, who in CASES:
        headers = bearer(keys[who]) if who else {}
        web = client.post("/api/contact/call-check", json=body, headers=headers)
        expected.append((web.status_code, web.json()))
        payload += _request(json.dumps(body).encode(), headers)
    # Every request pipelined on one connection, answered in order.
    got = asyncio.run(_exchange(container, payload, len(CASES)))
    assert got == expected
    assert [status for status, _ in got] == [200, 200, 422, 422, 403, 401, 401]
    assert got[0][1]["allowed"] is False
    with container.engine.connect() as conn:
        attempts = conn.execute(select(func.count()).select_from(contact_attempts)).scalar_one()
    assert attempts == 2  # one refusal through the web app, one through the port


def test_check_port_refuses_oversize_and_malformed_requests_without_failing(
    container: Container,
) -> None:
    with container.uow() as uow:
        token = machine_tokens.create_token(
            uow, role=security_service.Role.PRISON_SYSTEM, name="phones"
        )
        uow.commit()
    auth = bearer(token)
    big = b"{" + b" " * (checkport.MAX_BODY + 1) + b"}"
    assert asyncio.run(_exchange(container, _request(b"{nope", auth), 1)) == [
        (422, {"detail": [{"field": "body", "reason": "must be a JSON object"}]})
    ]
    assert asyncio.run(_exchange(container, _request(b"[1]", auth), 1))[0][0] == 422
    assert asyncio.run(_exchange(container, _request(big, auth), 1))[0][0] == 413
    assert asyncio.run(_exchange(container, _request(b"{}", auth, path="/x"), 1))[0][0] == 404
    assert asyncio.run(_exchange(container, _request(b"", auth, method="GET"), 1))[0][0] == 405


def test_check_port_is_off_unless_a_port_is_configured(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(checkport.PORT_VARIABLE, raising=False)
    asyncio.run(asyncio.wait_for(checkport.run(container.check_port(), asyncio.Event()), 5))


def test_check_port_serves_while_running_when_a_port_is_configured(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(checkport.PORT_VARIABLE, "0")

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(checkport.run(container.check_port(), stop))
        await asyncio.sleep(0.2)
        assert not task.done()
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
