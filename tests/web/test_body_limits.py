"""No client can make the server hold more body than a route needs: refused as 413, as JSON."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from tests.people.registry import as_user, build_registry
from vigil.bootstrap import Container
from vigil.web.limits import limit_for


def test_a_body_declared_too_large_is_refused_before_it_is_read(
    client: TestClient, container: Container
) -> None:
    build_registry(container)
    headers = as_user(client, "officer")
    limit = limit_for("/api/persons")
    response = client.post(
        "/api/persons",
        content=b"{" + b" " * limit + b"}",
        headers=headers | {"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {"detail": f"body: larger than {limit} bytes"}


def test_a_streamed_body_is_cut_off_when_it_passes_the_limit(
    client: TestClient, container: Container
) -> None:
    build_registry(container)
    headers = as_user(client, "officer")
    limit = limit_for("/api/contact/cases/1/notes")

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"text": "'
        for _ in range(limit // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    response = client.post(
        "/api/contact/cases/1/notes",
        content=chunks(),
        headers=headers | {"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {"detail": f"body: larger than {limit} bytes"}


def test_each_route_gets_the_size_its_largest_honest_body_needs() -> None:
    assert limit_for("/api/contact/requests") > limit_for("/api/contact/mail-check")
    assert limit_for("/api/gateways/import") >= 32 * 1024 * 1024
    assert limit_for("/harm/import") > 200 * 1024 * 1024
    assert limit_for("/login") < limit_for("/api/persons") * 4
