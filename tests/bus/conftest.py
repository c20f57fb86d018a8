"""A NATS stream of its own for each bus test, on the shared server."""

from __future__ import annotations

import socket
import uuid

import pytest

from tests.conftest import require_service


def nats_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def nats_names() -> tuple[str, str]:
    """A stream name and subject prefix no other test uses."""
    require_service("NATS", nats_reachable(), "nothing listening on 127.0.0.1:4222")
    suffix = uuid.uuid4().hex[:8]
    return f"VIGILTEST{suffix}", f"vigiltest{suffix}"
