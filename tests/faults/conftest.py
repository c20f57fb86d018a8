"""Fixtures of the fault suite: a PostgreSQL and a NATS server of the test's own, a webhook
receiver standing in for a police control room, and the processes a test starts (stopped, or
killed, at the end whatever happened)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerts.receivers import HttpReceiver, http_receiver
from tests.faults.cluster import NatsServer, PostgresServer, VigilProcess
from vigil.db import migrate

WEBHOOK_SECRET = "fault-suite-webhook-secret"


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Not pytest's tmp_path: the processes' logs are kept there, and it is short to read.
    path = Path(tempfile.mkdtemp(prefix="vigil-faults-"))
    yield path
    if not os.environ.get("VIGIL_FAULTS_KEEP"):  # set it to read the logs afterwards
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.init()
        server.start()
        migrate.upgrade(server.url)
        yield server
    finally:
        server.destroy()


@pytest.fixture
def nats(workdir: Path) -> Iterator[NatsServer]:
    server = NatsServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def control_room() -> Iterator[HttpReceiver]:
    with http_receiver(HttpReceiver()) as receiver:
        yield receiver


def alert_settings(receiver: HttpReceiver) -> dict[str, str]:
    """Critical alerts of the wearers' force (WMP) go to the receiver as webhooks."""
    return {
        "alerts_control_room_webhooks": json.dumps({"WMP": f"{receiver.url}/hook"}),
        "alerts_webhook_secret": WEBHOOK_SECRET,
    }


@pytest.fixture
def processes() -> Iterator[list[VigilProcess]]:
    """Every Vigil process a test starts goes in here, to be stopped at the end."""
    started: list[VigilProcess] = []
    yield started
    for process in started:
        if process.process is not None and process.process.poll() is None:
            process.process.kill()
            process.process.wait(10)
