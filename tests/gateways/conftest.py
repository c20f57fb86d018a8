"""The gateway servers are protocols on whatever loop runs them: the socket tests run on the
standard asyncio loop and on uvloop (which ``vigil serve`` uses), whose transports differ."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
import uvloop

from tests.conftest import START, make_settings
from vigil.bootstrap import Container, build_container
from vigil.clock import FrozenClock

SOCKET_TESTS = ("test_tcp_gateway.py", "test_osmand_port.py", "test_the_osmand_port")


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    if any(marker in item.nodeid for marker in SOCKET_TESTS):
        return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture
def register(tmp_path: Path, sqlite_template: Path) -> Iterator[Container]:
    """A device register and quarantine on SQLite, for door tests that need no second backend."""
    path = tmp_path / "register.db"
    shutil.copy(sqlite_template, path)
    built = build_container(make_settings(f"sqlite:///{path}"), clock=FrozenClock(START))
    yield built
    built.engine.dispose()
