"""The gateway servers are protocols on whatever loop runs them: the socket tests run on the
standard asyncio loop and on uvloop (which ``vigil serve`` uses), whose transports differ."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest
import uvloop

from vigil.bootstrap import Container

SOCKET_TESTS = ("test_tcp_gateway.py", "test_osmand_port.py", "test_the_osmand_port")


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    if any(marker in item.nodeid for marker in SOCKET_TESTS):
        return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture
def register(sqlite_container: Container) -> Container:
    """A device register and quarantine on SQLite, for door tests that need no second backend."""
    return sqlite_container
