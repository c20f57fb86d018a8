"""Prometheus sees alerts raised and failed delivery attempts by channel, counted in the database
so every process reports the same; never who or where."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.alerts.conftest import Registry, event, handle
from tests.conftest import FrozenClock
from vigil.alerts import outbox
from vigil.bootstrap import Container


def _samples(client: TestClient, name: str) -> dict[str, float]:
    """One metric's samples by their (single) label's value."""
    text = client.get("/metrics").text
    return {
        next(iter(sample.labels.values())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_alerts_raised_and_failed_attempts_are_counted(
    client: TestClient, container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    handle(container, event(registry.high_risk_person, at=weekday_morning.now()))
    with container.uow() as uow:
        outbox.enqueue(uow, channel="webhook", recipient="http://127.0.0.1:9/hook",
                       subject="s", body={}, idempotency_key="metrics-1")  # fmt: skip
        uow.commit()
    with container.uow() as uow:
        (claimed,) = outbox.claim(
            uow, channel="webhook", worker="w", lease=timedelta(seconds=30), limit=1
        )
        outbox.record_attempt(
            uow, claimed, worker="w", started_at=weekday_morning.now(), error="refused",
            permanent=False, backoff_base=timedelta(seconds=1), backoff_cap=timedelta(seconds=5),
        )  # fmt: skip
        uow.commit()

    assert sum(_samples(client, "vigil_alerts_raised_total").values()) == 1
    assert _samples(client, "vigil_delivery_attempts_failed_total") == {"webhook": 1}
