"""Bearer-token principals are cached briefly; revocation still takes effect within the TTL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from vigil.bootstrap import Container
from vigil.security import machine_tokens, service
from vigil.security.model import Role


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fake_time(container: Container) -> Ticker:
    ticker = Ticker()
    container.bearer_tokens.cache = machine_tokens.TokenPrincipalCache(ttl=30.0, now=ticker)
    assert container.bearer_tokens.cache._now is ticker
    return ticker


def test_a_revoked_token_stops_working_within_the_cache_ttl(
    client: TestClient, container: Container
) -> None:
    ticker = _fake_time(container)
    with container.uow() as uow:
        token = machine_tokens.create_token(uow, role=Role.PRISON_SYSTEM, name="HMP phones")
        token_id = machine_tokens.token_principal(uow, token).id  # type: ignore[union-attr]
        uow.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).status_code == 200

    with container.uow() as uow:
        machine_tokens.revoke_token(uow, token_id, actor="admin")
        uow.commit()
    ticker.now += 29.0  # still inside the TTL: the cached principal is used
    assert client.get("/api/me", headers=headers).status_code == 200
    ticker.now += 2.0  # past the TTL: looked up again, found revoked
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    ticker.now += 60.0  # and a refused token is never cached as good
    assert client.get("/api/me", headers=headers).status_code == 401


def test_an_unknown_token_gets_401_every_time_and_is_not_cached(
    client: TestClient, container: Container
) -> None:
    _fake_time(container)
    for _ in range(2):
        response = client.get("/api/me", headers={"Authorization": "Bearer vgl_unknown"})
        assert response.status_code == 401
    assert container.bearer_tokens.cache._entries == {}


def test_a_cached_token_is_read_from_the_database_once_per_ttl(container: Container) -> None:
    ticker = Ticker()
    cache = machine_tokens.TokenPrincipalCache(ttl=30.0, now=ticker)
    with container.uow() as uow:
        token = machine_tokens.create_token(uow, role=Role.PRISON_SYSTEM, name="HMP phones")
        uow.commit()
    lookups = []

    def lookup() -> service.Principal | None:
        lookups.append(1)
        with container.uow() as uow:
            return machine_tokens.token_principal(uow, token)

    first = cache.principal(token, lookup)
    assert first is not None
    assert first.role is Role.PRISON_SYSTEM
    assert cache.principal(token, lookup) == first
    assert len(lookups) == 1
    ticker.now += 31.0
    assert cache.principal(token, lookup) == first
    assert len(lookups) == 2
    assert token not in str(cache._entries)  # keyed by the token's hash, not the token
