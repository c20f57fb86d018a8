"""Durability: the delivery worker is a real process (``vigil alerts worker``), killed with a real
SIGKILL while deliveries are in flight, then restarted. Every delivery arrives at the real SMTP
server and webhook receiver on loopback; a receiver never processes an idempotency key twice,
and the only repeats on the wire are deliveries that were in flight when the worker died."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from tests.alerts.receivers import HttpReceiver, http_receiver, smtp_receiver
from tests.conftest import TEST_KEYS, TEST_SECRET, RunningClock, make_settings
from vigil.alerts import outbox
from vigil.alerts.model import DeliveryStatus
from vigil.alerts.tables import alert_deliveries
from vigil.bootstrap import build_container

PER_CHANNEL = 25
SECRET = "durability-secret"


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, detail: Callable[[], str] = str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}{detail()}")


def test_worker_killed_mid_delivery_loses_nothing_and_receivers_see_each_key_once(
    tmp_path: Path, sqlite_template: Path
) -> None:
    database = tmp_path / "vigil.db"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    container = build_container(make_settings(url), clock=RunningClock())
    with (
        # Each webhook takes 0.4 s to answer, so a kill lands while requests are open.
        http_receiver(HttpReceiver(delay=0.4)) as hook,
        smtp_receiver() as smtp,
    ):
        with container.uow() as uow:
            for n in range(PER_CHANNEL):
                outbox.enqueue(
                    uow,
                    channel="webhook",
                    recipient=f"{hook.url}/hook",
                    subject="s",
                    body={"n": n},
                    idempotency_key=f"hook-{n}",
                )
                outbox.enqueue(
                    uow,
                    channel="email",
                    recipient=f"officer{n}@probation.example",
                    subject="s",
                    body={"text": f"alert {n}"},
                    idempotency_key=f"mail-{n}",
                )
            uow.commit()
        env = {
            **os.environ,
            "VIGIL_ENVIRONMENT": "test",
            "VIGIL_DATABASE_URL": url,
            "VIGIL_SECRET_KEY": TEST_SECRET,
            "VIGIL_FIELD_ENCRYPTION_KEYS": TEST_KEYS,
            "VIGIL_LOG_LEVEL": "WARNING",
            "VIGIL_ALERTS_WEBHOOK_SECRET": SECRET,
            "VIGIL_ALERTS_SMTP_PORT": str(smtp.port),
            "VIGIL_ALERTS_OUTBOX_LEASE_S": "2",
            "VIGIL_ALERTS_OUTBOX_POLL_S": "0.1",
            "VIGIL_ALERTS_OUTBOX_BACKOFF_BASE_S": "0.2",
            "VIGIL_ALERTS_OUTBOX_BATCH": "8",
        }

        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                # The same Typer app ``vigil alerts worker`` mounts, started without importing
                # every other part's commands, so the restart is quick.
                [sys.executable, "-m", "vigil.alerts.cli", "worker"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / "worker.log").open("ab"),
            )

        def log_tail() -> str:
            return "; worker log: " + (tmp_path / "worker.log").read_text()[-2000:]

        def statuses() -> Counter[str]:
            with container.engine.connect() as conn:
                rows = conn.execute(
                    select(alert_deliveries.c.status, func.count()).group_by(
                        alert_deliveries.c.status
                    )
                ).all()
            return Counter({row[0]: row[1] for row in rows})

        worker = start()
        try:
            # Kill once some webhooks have arrived and the next ones are open on the wire.
            wait_for(
                lambda: (
                    len(hook.requests) >= 5
                    and statuses()[DeliveryStatus.IN_FLIGHT] > 0
                    # Answered after 0.4 s, a request begun under 0.2 s ago is open at the kill.
                    and hook.has_fresh_open_request(0.2)
                ),
                20,
                "webhook deliveries in flight",
                log_tail,
            )
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(5) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
        with container.engine.connect() as conn:
            stranded = set(
                conn.execute(
                    select(alert_deliveries.c.idempotency_key).where(
                        alert_deliveries.c.status == DeliveryStatus.IN_FLIGHT
                    )
                ).scalars()
            )
        assert stranded, "the kill should leave claimed deliveries behind"
        assert statuses()[DeliveryStatus.DELIVERED] < 2 * PER_CHANNEL

        restarted = start()
        try:
            wait_for(
                lambda: statuses()[DeliveryStatus.DELIVERED] == 2 * PER_CHANNEL,
                20,
                "every delivery after the restart",
                log_tail,
            )
            time.sleep(0.5)  # anything still to arrive would be a duplicate; give it a moment
        finally:
            restarted.send_signal(signal.SIGTERM)
            try:
                restarted.wait(10)
            except subprocess.TimeoutExpired:
                restarted.kill()
                raise
    expected_hooks = {f"hook-{n}" for n in range(PER_CHANNEL)}
    expected_mail = {f"mail-{n}" for n in range(PER_CHANNEL)}
    wire = Counter(r.headers["idempotency-key"] for r in hook.requests)
    assert set(wire) == expected_hooks
    repeated = {key for key, count in wire.items() if count > 1}
    # At least once: a repeat on the wire can only be a delivery the dead worker had in flight;
    # the receiver drops it by key, so each key is processed exactly once.
    assert repeated <= stranded
    assert sorted(hook.accepted_keys()) == sorted(expected_hooks)
    assert {str(m["X-Vigil-Idempotency-Key"]) for m in smtp.messages} == expected_mail
    assert len(smtp.messages) == PER_CHANNEL  # the SMTP receiver kept one per Message-ID
    container.engine.dispose()
