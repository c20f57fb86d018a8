"""Forwarded headers count only from configured proxies: with none configured, a client cannot
choose its own address with X-Forwarded-For (the issue bypassed the public form's rate limit
that way)."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tests.conftest import make_settings
from vigil.runtime import trusted_proxies


def _echo() -> FastAPI:
    app = FastAPI()

    @app.get("/who")
    def who(request: Request) -> str:
        return request.client.host if request.client else ""

    return app


def test_without_trusted_proxies_forwarded_for_is_ignored() -> None:
    proxies = trusted_proxies(make_settings("sqlite://"))
    assert proxies == []
    config = uvicorn.Config(_echo(), proxy_headers=bool(proxies))
    config.load()
    assert not isinstance(config.loaded_app, ProxyHeadersMiddleware)
    client = TestClient(config.loaded_app)
    assert client.get("/who", headers={"x-forwarded-for": "203.0.113.9"}).json() == "testclient"


def test_a_configured_proxy_is_believed() -> None:
    settings = make_settings("sqlite://").model_copy(update={"trusted_proxies": "10.0.0.5"})
    proxies = trusted_proxies(settings)
    assert proxies == ["10.0.0.5"]
    config = uvicorn.Config(_echo(), proxy_headers=True, forwarded_allow_ips=proxies)
    config.load()
    assert isinstance(config.loaded_app, ProxyHeadersMiddleware)
