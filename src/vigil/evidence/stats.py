"""Programme statistics for the pilot evaluation: wearers, violations, alerts, recalls.

For the programme lead. Vigil has no role of that name, so the statistics are open to
administrators and analysts (``STATS_ROLES``); they are aggregates only — no person is named.

Definitions (over a period of local dates, start inclusive, end exclusive):

* **Wearers**: persons with an order in force at some moment in the period, by the region of their
  record and the order's pilot. An order is in force from its start until its end, or until a
  revocation or end-of-monitoring version takes effect.
* **Wearer-days**: the time each person had an order in force within the period (overlapping
  orders counted once), in days; per pilot likewise.
* **Violations per 100 wearer-days**: violation episodes (exclusion zone, inclusion zone, curfew,
  proximity, alcohol) that started in the period, counted once per episode whether the engine's
  own record or the alert raised for it is what shows it; device events are not violations.
* **Alert outcomes**: alerts created in the period and resolved, by outcome; the **false-alert
  rate** is false alerts over resolved alerts.
* **Time to acknowledge**: from an alert's creation to its acknowledgement, for alerts created in
  the period and acknowledged; median and 90th percentile (nearest rank).
* **Recalls**: orders revoked in the period (a revocation version taking effect), by pilot.

Data comes only through the other parts' services: orders (``list_orders``, ``list_versions``),
the registry (``persons_by_ids``, ``list_regions``), alerts (``list_alerts``) and the engine's
``violations_of`` when the engine offers it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from vigil.alerts import alert_reads
from vigil.db.uow import UnitOfWork
from vigil.engine.service import violations_of
from vigil.errors import ErrorCollector
from vigil.evidence.exports import write_csv
from vigil.people import reference_data
from vigil.security import audit, permissions
from vigil.security.model import Principal, Role

VIOLATION_KINDS = ("exclusion_zone", "inclusion_zone", "curfew", "proximity", "alcohol")
MAX_PERIOD = timedelta(days=3 * 366)
# Reads other parts' records for aggregation only; the caller's role is checked first.
READER = Principal(id=0, name="programme-statistics", role=Role.ADMIN, is_machine=True)
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Span:
    """One order's time in force."""

    person_id: str
    pilot: str
    region: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Episode:
    id: str
    kind: str
    start: datetime


@dataclass(frozen=True)
class AlertFact:
    kind: str
    created_at: datetime
    acknowledged_at: datetime | None
    outcome: str | None


@dataclass(frozen=True)
class Recall:
    pilot: str
    at: datetime


@dataclass
class Statistics:
    start: date
    end: date
    wearers: dict[tuple[str, str], int] = field(default_factory=dict)
    wearers_total: int = 0
    region_names: dict[str, str] = field(default_factory=dict)
    wearer_days: float = 0.0
    wearer_days_by_pilot: dict[str, float] = field(default_factory=dict)
    violations: dict[str, int] = field(default_factory=dict)
    alerts_created: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    resolved: int = 0
    acknowledged: int = 0
    ack_median_min: float | None = None
    ack_p90_min: float | None = None
    recalls: dict[str, int] = field(default_factory=dict)

    def per_100_days(self, count: int) -> float | None:
        return None if self.wearer_days <= 0 else round(100 * count / self.wearer_days, 2)

    @property
    def false_alert_rate(self) -> float | None:
        if not self.resolved:
            return None
        return round(self.outcomes.get("false_alert", 0) / self.resolved, 4)

    @property
    def regions(self) -> list[str]:
        return sorted({r for r, _ in self.wearers})

    @property
    def pilots(self) -> list[str]:
        return sorted({p for _, p in self.wearers})


def _clip(start: datetime, end: datetime, lo: datetime, hi: datetime) -> tuple[datetime, datetime]:
    return max(start, lo), min(end, hi)


def union_days(intervals: Iterable[tuple[datetime, datetime]]) -> float:
    """Length of the union of intervals, in days (overlapping orders count once)."""
    total = 0.0
    current: tuple[datetime, datetime] | None = None
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if current is None or s > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (s, e)
        else:
            current = (current[0], max(current[1], e))
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total / 86_400


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The q-th quantile by nearest rank (a value that occurred, no interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def local_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight at the start and the end of the period, as UTC instants."""
    return (
        datetime.combine(start, time(0), tz).astimezone(UTC),
        datetime.combine(end, time(0), tz).astimezone(UTC),
    )


def compute(
    start: date,
    end: date,
    tz: ZoneInfo,
    spans: Sequence[Span],
    episodes: Iterable[Episode],
    alerts: Sequence[AlertFact],
    recalls: Sequence[Recall],
    region_names: dict[str, str] | None = None,
) -> Statistics:
    # In UTC: subtracting two datetimes that share a ZoneInfo gives wall-clock time, which
    # would lose (or gain) the hour the clocks change.
    lo, hi = local_bounds(start, end, tz)
    stats = Statistics(start, end, region_names=dict(region_names or {}))
    live = [s for s in spans if s.start < hi and s.end > lo]
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in live:
        seen[(s.region, s.pilot)].add(s.person_id)
    stats.wearers = {key: len(persons) for key, persons in sorted(seen.items())}
    stats.wearers_total = len({s.person_id for s in live})
    by_person: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    by_pilot: dict[str, dict[str, list[tuple[datetime, datetime]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for s in live:
        clipped = _clip(s.start, s.end, lo, hi)
        by_person[s.person_id].append(clipped)
        by_pilot[s.pilot][s.person_id].append(clipped)
    stats.wearer_days = round(sum(union_days(v) for v in by_person.values()), 3)
    stats.wearer_days_by_pilot = {
        pilot: round(sum(union_days(v) for v in persons.values()), 3)
        for pilot, persons in sorted(by_pilot.items())
    }
    unique = {e.id: e for e in episodes}
    counted = Counter(
        e.kind for e in unique.values() if e.kind in VIOLATION_KINDS and lo <= e.start < hi
    )
    stats.violations = {kind: counted.get(kind, 0) for kind in VIOLATION_KINDS}
    in_period = [a for a in alerts if lo <= a.created_at < hi]
    stats.alerts_created = len(in_period)
    outcomes = Counter(a.outcome for a in in_period if a.outcome)
    stats.outcomes = dict(sorted(outcomes.items()))
    stats.resolved = sum(outcomes.values())
    waits = [
        (a.acknowledged_at - a.created_at).total_seconds() / 60
        for a in in_period
        if a.acknowledged_at is not None and a.acknowledged_at >= a.created_at
    ]
    stats.acknowledged = len(waits)
    median = nearest_rank(waits, 0.5)
    p90 = nearest_rank(waits, 0.9)
    stats.ack_median_min = None if median is None else round(median, 2)
    stats.ack_p90_min = None if p90 is None else round(p90, 2)
    stats.recalls = dict(sorted(Counter(r.pilot for r in recalls if lo <= r.at < hi).items()))
    return stats


# ---------------------------------------------------------------------------------------------
# Gathering through the other parts' services


def _parse(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def gather(
    uow: UnitOfWork, start: date, end: date, tz: ZoneInfo
) -> tuple[list[Span], list[Episode], list[AlertFact], list[Recall], dict[str, str]]:
    from vigil.alerts.alert_reads import AlertFilter
    from vigil.orders import service as orders
    from vigil.orders.model import CLOSING_KINDS, VersionKind
    from vigil.people import service as people

    lo, hi = local_bounds(start, end, tz)
    views = orders.list_orders(uow, READER)
    persons = people.persons_by_ids(uow, sorted({v.person_id for v in views}))
    spans: list[Span] = []
    recalls: list[Recall] = []
    for view in views:
        versions = orders.list_versions(uow, READER, view.id)
        closing = [v for v in versions if v.kind in CLOSING_KINDS]
        until = min([view.ends_at, *(v.effective_at for v in closing)])
        found = persons.get(view.person_id)
        region = (found.region_code if found else None) or UNKNOWN
        spans.append(Span(str(view.person_id), view.pilot.value, region, view.starts_at, until))
        recalls.extend(
            Recall(view.pilot.value, v.effective_at)
            for v in versions
            if v.kind is VersionKind.REVOCATION
        )
    listed = alert_reads.list_alerts(
        uow, READER, AlertFilter(since=lo - timedelta(days=1), limit=1_000_000)
    )
    facts = []
    episodes: list[Episode] = []
    for a in listed:
        created = _parse(a["created_at"])
        if created is None or created >= hi:
            continue
        facts.append(
            AlertFact(a["kind"], created, _parse(a.get("acknowledged_at")), a.get("outcome"))
        )
        if a.get("source") == "episode" and a.get("started_at"):
            started = _parse(a["started_at"])
            if started is not None:
                episodes.append(Episode(str(a["episode_id"]), str(a["kind"]), started))
    for person_id in sorted({s.person_id for s in spans if s.start < hi and s.end > lo}):
        for v in violations_of(uow, person_id):
            started = _parse(v.get("start"))
            if started is not None:
                episodes.append(Episode(str(v["episode_id"]), str(v["kind"]), started))
    names = {r.code: r.name for r in reference_data.list_regions(uow)}
    return spans, episodes, facts, recalls, names


def programme_statistics(
    uow: UnitOfWork,
    principal: Principal,
    start: date,
    end: date,
    reason: str | None,
    timezone: str = "Europe/London",
) -> Statistics:
    """The statistics for a period of local dates; the request is audited with its reason."""
    from vigil.evidence.crime_access import stated_reason

    principal.require(permissions.PROGRAMME_STATISTICS)
    errors = ErrorCollector()
    stated = stated_reason(reason, errors)
    if end <= start:
        errors.add("end", "must be after start")
    elif end - start > MAX_PERIOD:
        errors.add("end", "the period may be at most three years")
    errors.raise_if_any()
    tz = ZoneInfo(timezone)
    spans, episodes, facts, recalls, names = gather(uow, start, end, tz)
    stats = compute(start, end, tz, spans, episodes, facts, recalls, names)
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="programme_statistics.view",
        subject_type="programme",
        detail={"reason": stated, "start": start.isoformat(), "end": end.isoformat()},
    )
    return stats


# ---------------------------------------------------------------------------------------------
# Output: CSV and charts


def statistics_csv(stats: Statistics) -> str:
    """One long table (measure, group, subgroup, value); cells a spreadsheet would run as a
    formula are neutralised."""
    rows: list[tuple[object, ...]] = [
        ("period", "start", "", stats.start.isoformat()),
        ("period", "end (exclusive)", "", stats.end.isoformat()),
        ("wearers", "total", "", stats.wearers_total),
    ]
    for (region, pilot), count in stats.wearers.items():
        rows.append(("wearers", stats.region_names.get(region, region), pilot, count))
    rows.append(("wearer_days", "total", "", stats.wearer_days))
    rows.extend(("wearer_days", "pilot", p, d) for p, d in stats.wearer_days_by_pilot.items())
    for kind, count in stats.violations.items():
        rows.append(("violations", kind, "count", count))
        rows.append(("violations", kind, "per_100_wearer_days", stats.per_100_days(count)))
    rows.append(("alerts", "created", "", stats.alerts_created))
    rows.append(("alerts", "resolved", "", stats.resolved))
    rows.extend(("alerts", "outcome", o, n) for o, n in stats.outcomes.items())
    rows.append(("alerts", "false_alert_rate", "", stats.false_alert_rate))
    rows.append(("time_to_acknowledge_min", "acknowledged", "", stats.acknowledged))
    rows.append(("time_to_acknowledge_min", "median", "", stats.ack_median_min))
    rows.append(("time_to_acknowledge_min", "p90", "", stats.ack_p90_min))
    rows.append(("recalls", "total", "", sum(stats.recalls.values())))
    rows.extend(("recalls", "pilot", p, n) for p, n in stats.recalls.items())
    return write_csv(("measure", "group", "subgroup", "value"), rows)


def bar_chart(title: str, items: Sequence[tuple[str, float]], unit: str = "") -> str:
    """A horizontal bar chart as SVG (labels escaped; no script, no external references)."""
    bar_h, gap, label_w, chart_w = 22, 8, 220, 320
    height = 40 + len(items) * (bar_h + gap)
    top = max((v for _, v in items), default=0.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {label_w + chart_w + 90}'
        f' {height}" width="100%" aria-label="{escape(title, {chr(34): "&quot;"})}">',
        f'<text x="0" y="18" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 32 + i * (bar_h + gap)
        w = max(0.0, chart_w * value / top)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" font-size="13" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#1d70b8"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="13">'
            f"{value:g}{escape(unit)}</text>"
        )
    if not items:
        parts.append('<text x="0" y="44" font-size="13">No data in this period.</text>')
    parts.append("</svg>")
    return "".join(parts)


def charts(stats: Statistics) -> dict[str, str]:
    by_region: Counter[str] = Counter()
    by_pilot: Counter[str] = Counter()
    for (region, pilot), count in stats.wearers.items():
        by_region[stats.region_names.get(region, region)] += count
        by_pilot[pilot] += count
    return {
        "wearers_region": bar_chart("Wearers by region", sorted(by_region.items())),
        "wearers_pilot": bar_chart("Wearers by pilot", sorted(by_pilot.items())),
        "violations": bar_chart(
            "Violations per 100 wearer-days",
            [(k, stats.per_100_days(n) or 0.0) for k, n in stats.violations.items()],
        ),
        "outcomes": bar_chart(
            "Resolved alerts by outcome", [(o, float(n)) for o, n in stats.outcomes.items()]
        ),
    }
