"""Shared fixtures: real databases (SQLite and PostgreSQL), a frozen clock, the app, logins.

Storage-touching tests take ``db_url`` (or something built on it) and run on both backends.
PostgreSQL comes from ``VIGIL_TEST_POSTGRES_URL``; when it is unreachable the PostgreSQL case is
skipped locally but fails under ``CI=true``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from vigil.bootstrap import Container, build_container, load_all_tables, register_bus_messages
from vigil.clock import FrozenClock
from vigil.db import migrate
from vigil.security.passwords import use_fast_hashing_for_tests
from vigil.settings import Environment, Settings, new_encryption_key_entry
from vigil.web.app import create_app
from vigil.web.auth import PRE_SESSION_CSRF_COOKIE

# One definition of the browser fixtures for every folder: a second sync Playwright would clash.
pytest_plugins = ["tests.browser"]

# Real-world files the tests read; tests/fixtures/README.md gives each one's source and licence.
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Tests that encode bus messages without building a container first.
register_bus_messages()

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
TEST_KEYS = new_encryption_key_entry("t1")
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# Still argon2id, with parameters cheap enough for the hundreds of users tests create.
use_fast_hashing_for_tests()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(name: str, reachable: bool, why: str) -> None:
    """Skip locally when a real service is missing; under CI=true that is a failure."""
    if reachable:
        return
    if in_ci():
        pytest.fail(f"{name} is required under CI=true but is unreachable: {why}")
    pytest.skip(f"{name} unreachable: {why}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str | None]:
    base = os.environ.get("VIGIL_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    schema = f"vigil_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        yield f"unreachable:{exc}"
        return
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    yield url
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    metadata = load_all_tables()
    names = ", ".join(table.name for table in metadata.sorted_tables)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_schema_url: str | None,
) -> str:
    """A freshly migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "vigil.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    assert postgres_schema_url is not None
    reachable = not postgres_schema_url.startswith("unreachable:")
    require_service("PostgreSQL", reachable, postgres_schema_url.removeprefix("unreachable:"))
    _truncate_postgres(postgres_schema_url)
    return postgres_schema_url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "db_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


class RunningClock:
    """A clock that starts at a fixed instant and then runs with the wall clock: for live servers,
    whose background services need time to pass, on a calendar that does not depend on today."""

    def __init__(self, start: datetime = START) -> None:
        self._start = start
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._started)


def make_settings(db_url: str) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=db_url,
        secret_key=TEST_SECRET,
        field_encryption_keys=TEST_KEYS,
        # Tests move the frozen clock by hours under one sign-in; the idle time-out has its own
        # test (tests/security/test_sign_in_and_sessions.py).
        session_idle_minutes=0,
    )


@pytest.fixture
def container(db_url: str, clock: FrozenClock) -> Iterator[Container]:
    built = build_container(make_settings(db_url), clock=clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def sqlite_container(
    tmp_path: Path, sqlite_template: Path, clock: FrozenClock
) -> Iterator[Container]:
    """A freshly migrated SQLite database only, for tests that need a store but not both backends
    (device doors' register, the API contract run)."""
    path = tmp_path / "single.db"
    shutil.copy(sqlite_template, path)
    built = build_container(make_settings(f"sqlite:///{path}"), clock=clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


@pytest.fixture
def cli_env(container: Container, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Run ``vigil`` commands against the test's database, as an operator's shell would."""
    settings = container.settings
    monkeypatch.setenv("VIGIL_ENVIRONMENT", "test")
    monkeypatch.setenv("VIGIL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VIGIL_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("VIGIL_FIELD_ENCRYPTION_KEYS", settings.field_encryption_keys)
    return CliRunner()


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF token"
    return found.group(1)


def log_in(client: TestClient, username: str, password: str) -> str:
    """Log in through the real form; returns the session's CSRF token for later form posts."""
    page = client.get("/login")
    token = csrf_from(page.text)
    assert client.cookies.get(PRE_SESSION_CSRF_COOKIE)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/")
    return csrf_from(home.text)
