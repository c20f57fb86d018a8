"""What Prometheus scrapes: counts and ages an operator can alert on, and nothing personal."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import START
from vigil.bootstrap import Container


def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_refusals_the_bus_the_loops_and_the_queues_are_exposed(
    client: TestClient, container: Container
) -> None:
    container.gateway_metrics.rejected("osmand", "unknown_device", 3)
    container.gateway_metrics.accepted("teltonika", 40)
    container.heartbeats.beat("engine", START)
    container.heartbeats.worked("engine", 0.25)
    container.heartbeats.worked("engine", 0.5)
    samples = _samples(client)
    refused = (("event", "rejected"), ("protocol", "osmand"), ("reason", "unknown_device"))
    assert samples[("vigil_gateway_events_total", refused)] == 3
    accepted = (("event", "accepted"), ("protocol", "teltonika"), ("reason", ""))
    assert samples[("vigil_gateway_events_total", accepted)] == 40
    assert samples[("vigil_bus_connected", ())] == 1
    assert samples[("vigil_loop_age_seconds", (("loop", "engine"),))] == 0
    assert samples[("vigil_loop_work_units_total", (("loop", "engine"),))] == 2
    assert samples[("vigil_loop_work_seconds_total", (("loop", "engine"),))] == 0.75
    assert samples[("vigil_outbox_oldest_due_seconds", ())] == 0
    assert samples[("vigil_dead_letters_waiting", ())] == 0
