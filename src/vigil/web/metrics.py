"""``/metrics`` for Prometheus: what an operator alerts on, read at each scrape.

Only counts and ages, never who or where, so the endpoint needs no sign-in; put it behind the
same network rules as the rest of the staff app. Counters kept in memory (the gateways') are per
process; gauges read from the database are the same from every process.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from vigil.alerts import alert_reads, outbox
from vigil.bootstrap import Container
from vigil.bus import dead_letters
from vigil.web.auth import ContainerDep

router = APIRouter(include_in_schema=False)


class VigilCollector(Collector):
    def __init__(self, container: Container) -> None:
        self.container = container

    def collect(self) -> Iterator[Metric]:
        c = self.container
        gateway = CounterMetricFamily(
            "vigil_gateway_events",
            "Device door events: accepted fixes, refusals by reason, connections.",
            labels=["protocol", "event", "reason"],
        )
        for row in c.gateway_metrics.snapshot():
            labels = [row["protocol"], row["event"], row["reason"]]
            gateway.add_metric(labels, float(row["count"]))
        yield gateway
        connected = GaugeMetricFamily("vigil_bus_connected", "1 when the bus is connected.")
        connected.add_metric([], 1.0 if c.bus.is_connected() else 0.0)
        yield connected
        yield from self._partitions()
        yield from self._work()
        loops = GaugeMetricFamily(
            "vigil_loop_age_seconds", "Since each background loop last turned.", labels=["loop"]
        )
        for loop, age in c.heartbeats.ages_s(c.clock.now()).items():
            loops.add_metric([loop], age)
        yield loops
        yield from self._services()
        yield from self._from_database()

    def _services(self) -> Iterator[Metric]:
        states = sorted(self.container.service_states.by_name.items())
        crashes = CounterMetricFamily(
            "vigil_service_crashes",
            "Background service crashes (each restarted).",
            labels=["service"],
        )
        running = GaugeMetricFamily(
            "vigil_service_running", "1 while a background service runs.", labels=["service"]
        )
        for name, state in states:
            crashes.add_metric([name], float(state.crashes))
            running.add_metric([name], 1.0 if state.running else 0.0)
        yield crashes
        yield running

    def _partitions(self) -> Iterator[Metric]:
        report = self.container.bus.partition_report()
        held = GaugeMetricFamily(
            "vigil_bus_partitions_held", "Partitions this process consumes.", labels=["group"]
        )
        unconsumed = GaugeMetricFamily(
            "vigil_bus_partitions_unconsumed",
            "Partitions no process has held for longer than a takeover takes.",
            labels=["group"],
        )
        changes = CounterMetricFamily(
            "vigil_bus_lease_changes", "Times this process's partitions changed.", labels=["group"]
        )
        for view in report.leases:
            held.add_metric([view.group], float(len(view.held)))
            unconsumed.add_metric([view.group], float(len(view.unconsumed)))
            changes.add_metric([view.group], float(view.changes))
        waiting = GaugeMetricFamily(
            "vigil_bus_partition_waiting",
            "Messages not yet acknowledged on a partition consumed here (its lag).",
            labels=["group", "partition"],
        )
        for (group, partition), n in sorted(report.waiting.items()):
            waiting.add_metric([group, str(partition)], float(n))
        yield from (held, unconsumed, changes, waiting)

    def _work(self) -> Iterator[Metric]:
        work = self.container.heartbeats.work
        seconds = CounterMetricFamily(
            "vigil_loop_work_seconds", "Time spent on units of work (an engine's batches).",
            labels=["loop"],
        )  # fmt: skip
        units = CounterMetricFamily(
            "vigil_loop_work_units", "Units of work done (an engine's batches).", labels=["loop"]
        )
        for loop, done in sorted(work.items()):
            seconds.add_metric([loop], done.seconds)
            units.add_metric([loop], float(done.count))
        yield from (seconds, units)

    def _from_database(self) -> Iterator[Metric]:
        c = self.container
        now = c.clock.now()
        with c.reader() as uow:
            depth = outbox.depth_by_channel(uow)
            due = outbox.oldest_due(uow, now)
            waiting = dead_letters.count_waiting(uow)
            raised = alert_reads.raised_by_severity(uow)
            failed = outbox.failed_attempts_by_channel(uow)
        pending = GaugeMetricFamily(
            "vigil_outbox_depth", "Alert deliveries not yet delivered.", labels=["channel"]
        )
        for channel, n in depth.items():
            pending.add_metric([channel], float(n))
        yield pending
        behind = GaugeMetricFamily(
            "vigil_outbox_oldest_due_seconds", "How long the longest-waiting due delivery waited."
        )
        behind.add_metric([], 0.0 if due is None else (now - due).total_seconds())
        yield behind
        letters = GaugeMetricFamily("vigil_dead_letters_waiting", "Dead letters not replayed.")
        letters.add_metric([], float(waiting))
        yield letters
        alerts = CounterMetricFamily(
            "vigil_alerts_raised", "Alerts raised, as kept.", labels=["severity"]
        )
        for severity, n in sorted(raised.items()):
            alerts.add_metric([severity], float(n))
        yield alerts
        attempts = CounterMetricFamily(
            "vigil_delivery_attempts_failed", "Failed delivery attempts.", labels=["channel"]
        )
        for channel, n in sorted(failed.items()):
            attempts.add_metric([channel], float(n))
        yield attempts


@router.get("/metrics")
def metrics(c: ContainerDep) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(VigilCollector(c))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
