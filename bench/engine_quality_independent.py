"""Alert quality on data the rules were not tuned on: a published error model and real traces.

``bench/engine_quality.py`` measures the rules on noise of our own making. This benchmark feeds
them data from elsewhere and compares three rules on the same fixes: Vigil, a point-in-zone rule
(a violation whenever a reported point is inside) and a two-consecutive-fixes rule (two fixes in a
row with the point inside), each with and without adaptive reporting (the tag reports every
``--fast`` seconds while Vigil asks it to: a wearer in a zone's buffer, a visit pending or a
violation open; every ``--normal`` seconds otherwise). All three rules see the same fixes.

Data sets (see docs/performance.md, "Alert quality on independent data"):

* **residential / urban error model**: wearers living 100-300 m from a 300 m exclusion zone who
  on some days walk into it. Position error is a first-order Gauss-Markov process per axis whose
  size comes from published smartphone studies: median horizontal error 8 m for A-GPS outdoors
  (Zandbergen 2009, Transactions in GIS 13(s1):5-26) for residential streets, mean 7-13 m in an
  urban environment (Merry & Bettinger 2019, PLoS ONE 14(7):e0219890; 13 m used) for urban ones.
  The tag reports the 68% radius (what Android's accuracy means) scaled by a random
  mis-calibration factor, so the reported accuracy is not the error the engine assumes. On top,
  lone multipath outliers with an ordinary reported accuracy, and short WiFi/cell fallbacks
  (Zandbergen 2009: WiFi median error 74 m, cellular 600 m) reporting 400-1,200 m accuracy.
  Their rates are assumptions, stated in the constants below.
* **Limerick phone**: the real smartphone GNSS trace in tests/fixtures (one fix about every 2 s)
  played as a wearer, sampled every ``--normal`` s (12 sampling phases, so 12 wearers), faster
  when commanded. Zones are placed by a fixed rule blind to the rules: every 2 km along the
  route one zone centred on the route (must be found when the trace is 30 m inside for 60 s) and
  one beside it, its edge 60 m from the route.
* **Liverpool buses**: the eight real bus trajectories (about one fix every 20-30 s, gaps of up
  to 52 minutes); the buses cannot be commanded (like Traccar Client / OsmAnd), so adaptive
  reporting changes nothing. Same zone rule along the first bus's route.
* **week beside a zone**: wearers at home 150 m outside a 300 m zone (200 m buffer) for seven
  days, one fix a minute, error correlated over five minutes, with lone confident outliers and
  runs of 400-1,200 m fixes (the first two false violations of issue 16), and one real visit
  each. **week-spikes** adds, once a day, 35 s of fixes at the zone's centre claiming 10 m
  accuracy: 450 m from home, so not impossible by speed (the third kind, 2.3 km away, is).

Truth for simulated data is the true track; for real traces it is the trace itself (the rules see
the same points). A real entry is a stay at least 60 s long reaching 30 m inside; it is found
when a violation overlaps it; its delay is raised_at minus the crossing. A false violation
overlaps no moment the truth was inside (2 minutes' margin).

    .venv/bin/python bench/engine_quality_independent.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pyproj import Geod
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vigil.engine.core import Engine, FixBatch
from vigil.engine.plan import parse_plan
from vigil.gateways.imports import from_gpx

ROOT = Path(__file__).resolve().parents[1]

GEOD = Geod(ellps="WGS84")
FIXTURES = ROOT / "tests" / "fixtures" / "trajectories"
DAY0 = 1_795_392_000.0  # 2026-11-23T00:00:00Z
CENTRE = (-1.8904, 52.4862)
RADIUS = 300.0
KX = 111_320.0 * math.cos(math.radians(CENTRE[1]))
KY = 111_250.0
# Published magnitudes (see the module docstring): median radial error = 1.1774 sigma and mean
# radial error = 1.2533 sigma for a circular Gaussian; the 68% radius is 1.51 sigma.
SIGMA_RESIDENTIAL = 8.0 / 1.1774
SIGMA_URBAN = 13.0 / 1.2533
R68 = 1.51
# Assumed rates (not from the studies): lone multipath outliers per fix, fallback runs per day.
OUTLIER_RATE = {"residential": 1 / 1000, "urban": 1 / 200, "week": 1 / 500, "week-spikes": 1 / 500}
FALLBACK_PER_DAY = {"residential": 1.0, "urban": 3.0, "week": 3.0, "week-spikes": 3.0}
JUMPS_PER_DAY = {"residential": 0.0, "urban": 0.0, "week": 0.0, "week-spikes": 1.0}
LATENCY_S = 2.0  # from the fix that prompts a command to the tag obeying it
MARGIN_S = 120.0


@dataclass
class Truth:
    inside: list[tuple[float, float]] = field(default_factory=list)  # any time inside
    entries: list[tuple[float, float]] = field(default_factory=list)  # real entries (>=60 s, 30 m)


class Device:
    """One wearer's tag: says where it is at a time it is asked to report."""

    commandable = True
    phase = 0.0  # seconds after the start of its data that the tag first reports

    def observe(self, t: float) -> tuple[float, float, float] | None:
        raise NotImplementedError

    def reset(self) -> None:
        """Back to the start, so every run sees the same noise."""

    def report_times(self) -> tuple[float, float]:
        raise NotImplementedError


@dataclass
class Wearer:
    name: str
    device: Device
    zones: list[dict[str, Any]]
    truth: dict[str, Truth]
    days: float


def xy_to_lonlat(x: float, y: float) -> tuple[float, float]:
    return CENTRE[0] + x / KX, CENTRE[1] + y / KY


def circle(ident: str, lon: float, lat: float, radius: float, buffer: float) -> dict[str, Any]:
    return {
        "id": ident,
        "type": "exclusion_zone",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "radius_m": radius,
        "buffer_m": buffer,
    }


def signed_distance(zone: dict[str, Any], lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Geodesic distance to the circle's edge (negative inside), independent of the engine."""
    cx, cy = zone["geometry"]["coordinates"]
    n = lon.size
    return GEOD.inv(np.full(n, cx), np.full(n, cy), lon, lat)[2] - zone["radius_m"]


def truth_of(t: np.ndarray, d: np.ndarray) -> Truth:
    """Inside runs of a densely sampled true track, and which of them are real entries."""
    truth = Truth()
    inside = d < 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inside.view(np.int8), [0]))))
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        start, end = float(t[a]), float(t[b - 1])
        truth.inside.append((start, end))
        if end - start >= 60 and float(d[a:b].min()) <= -30:
            truth.entries.append((start, end))
    return truth


# ---------------------------------------------------------------- simulated tags


class ModelTag(Device):
    """A tag on a scripted true track with Gauss-Markov error, outliers and fallbacks."""

    def __init__(
        self,
        rng: np.random.Generator,
        track: Callable[[float], tuple[float, float]],
        start: float,
        end: float,
        sigma: float,
        tau_s: float,
        setting: str,
    ) -> None:
        self.seed = int(rng.integers(1 << 62))
        self.track = track
        self.start, self.end = start, end
        self.sigma, self.tau = sigma, tau_s
        self.setting = setting
        self.reset()
        days = (end - start) / 86_400
        self.fallbacks = [
            (s, s + rng.uniform(60, 300))
            for s in rng.uniform(start, end, rng.poisson(FALLBACK_PER_DAY[setting] * days))
        ]
        self.jumps = [
            s for s in rng.uniform(start, end, rng.poisson(JUMPS_PER_DAY[setting] * days))
        ]

    def reset(self) -> None:
        self.noise = np.random.default_rng(self.seed + 1)
        self.e = self.noise.normal(0, self.sigma, 2)
        self.t_last = self.start
        self.scale = 1.0

    def report_times(self) -> tuple[float, float]:
        return self.start, self.end

    def observe(self, t: float) -> tuple[float, float, float] | None:
        rng = self.noise
        rho = math.exp(-max(t - self.t_last, 0.0) / self.tau)
        self.e = rho * self.e + math.sqrt(1 - rho * rho) * rng.normal(0, self.sigma, 2)
        # The tag's own idea of its error drifts slowly around the truth (mis-calibration).
        self.scale = float(np.clip(self.scale * math.exp(rng.normal(0, 0.05)), 0.5, 2.0))
        self.t_last = t
        x, y = self.track(t)
        ex, ey = self.e
        acc = R68 * self.sigma * self.scale
        if any(a <= t < b for a, b in self.fallbacks):
            acc = rng.uniform(400, 1_200)
            spread = 600.0 if acc > 700 else 74.0 / 1.1774
            ex, ey = rng.normal(0, spread, 2)
        elif any(0 <= t - s < 35 for s in self.jumps):
            # A 35 s spike to the middle of the zone, 450 m from home, claiming 10 m accuracy:
            # fast enough to be absurd for a wearer at home, not fast enough to be impossible.
            ex, ey = -x, -y
            acc = 10.0
        elif rng.random() < OUTLIER_RATE[self.setting]:
            angle = rng.uniform(0, 2 * math.pi)
            far = rng.uniform(100, 260)
            ex, ey = far * math.cos(angle), far * math.sin(angle)
            acc = rng.uniform(10, 30)  # a multipath outlier that believes itself
        lon, lat = xy_to_lonlat(x + ex, y + ey)
        return lon, lat, acc


def walker(
    home: tuple[float, float], visits: list[tuple[float, float, float]], speed: float = 1.4
) -> Callable[[float], tuple[float, float]]:
    """Home, and visits (leave home at, depth inside the zone, stay) along the radial line."""
    hx, hy = home
    r0 = math.hypot(hx, hy)
    ux, uy = hx / r0, hy / r0
    plans = []
    for go, depth, stay in visits:
        walk = (r0 - RADIUS + depth) / speed
        plans.append((go, go + walk, go + walk + stay, go + 2 * walk + stay, RADIUS - depth))

    def where(t: float) -> tuple[float, float]:
        for go, arrive, turn, back, r_in in plans:
            if go <= t < back:
                r = float(np.interp(t, [go, arrive, turn, back], [r0, r_in, r_in, r0]))
                return r * ux, r * uy
        return hx, hy

    return where


def model_wearers(setting: str, count: int, days: int, seed: int) -> list[Wearer]:
    rng = np.random.default_rng(seed)
    out = []
    zone = circle("Z", CENTRE[0], CENTRE[1], RADIUS, 200.0)
    for w in range(count):
        bearing = rng.uniform(0, 2 * math.pi)
        home_r = RADIUS + (150.0 if setting.startswith("week") else rng.uniform(100, 300))
        home = (home_r * math.cos(bearing), home_r * math.sin(bearing))
        start = DAY0
        end = DAY0 + days * 86_400
        visits = []
        if setting.startswith("week"):
            visits.append((DAY0 + 3 * 86_400 + rng.uniform(30_000, 70_000), 100.0, 300.0))
        else:
            for day in range(days):
                if rng.random() < 0.3:
                    visits.append(
                        (
                            DAY0 + day * 86_400 + rng.uniform(7_200, 79_200),
                            rng.uniform(30, 150),
                            rng.uniform(60, 600),
                        )
                    )
        track = walker(home, visits)
        tau = 300.0 if setting.startswith("week") else 60.0
        sigma = SIGMA_RESIDENTIAL if setting == "residential" else SIGMA_URBAN
        tag = ModelTag(rng, track, start, end, sigma, tau, setting)
        dense = np.arange(start, end, 1.0)
        xy = np.array([track(float(t)) for t in dense[::5]])
        lon = CENTRE[0] + xy[:, 0] / KX
        lat = CENTRE[1] + xy[:, 1] / KY
        d = signed_distance(zone, lon, lat)
        out.append(Wearer(f"{setting}-{w}", tag, [zone], {"Z": truth_of(dense[::5], d)}, days))
    return out


# ---------------------------------------------------------------- real traces


class TraceTag(Device):
    """A real trace: asked at t, it gives the latest real point at or before t."""

    def __init__(self, t: np.ndarray, lon: np.ndarray, lat: np.ndarray, acc: float) -> None:
        self.t, self.lon, self.lat, self.acc = t, lon, lat, acc

    def report_times(self) -> tuple[float, float]:
        return float(self.t[0]), float(self.t[-1])

    def observe(self, t: float) -> tuple[float, float, float] | None:
        i = int(np.searchsorted(self.t, t, side="right")) - 1
        if i < 0 or t - self.t[i] > 30:
            return None  # nothing recorded near then: the tag has no fix to send
        return float(self.lon[i]), float(self.lat[i]), self.acc


class FixedTag(TraceTag):
    """A real trace replayed exactly as recorded: it cannot be commanded."""

    commandable = False


def zones_along(lon: np.ndarray, lat: np.ndarray, every_m: float, prefix: str) -> list[dict]:
    """The placement rule: every ``every_m`` along the route a zone on it and one beside it."""
    step = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2]
    along = np.concatenate(([0.0], np.cumsum(step)))
    zones = []
    for k, mark in enumerate(np.arange(every_m, along[-1] - every_m / 2, every_m).tolist()):
        i = int(np.searchsorted(along, mark))
        j = min(i + 5, lon.size - 1)
        heading, _, _ = GEOD.inv(lon[i], lat[i], lon[j], lat[j])
        zones.append(circle(f"{prefix}on{k}", float(lon[i]), float(lat[i]), RADIUS, 200.0))
        side_lon, side_lat, _ = GEOD.fwd(lon[i], lat[i], heading + 90, RADIUS + 60)
        zones.append(circle(f"{prefix}by{k}", side_lon, side_lat, RADIUS, 200.0))
    return zones


def trace_truth(zones: list[dict], t: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> dict:
    return {z["id"]: truth_of(t, signed_distance(z, lon, lat)) for z in zones}


def limerick_wearers(phases: int, normal: float) -> list[Wearer]:
    data = (FIXTURES / "limerick_bus_phone_2019-02-18.gpx").read_bytes()
    points = from_gpx(data, "PHONE", datetime(2030, 1, 1, tzinfo=UTC))
    t = np.array([p.fix_time.timestamp() for p in points])
    lon = np.array([p.lon for p in points], dtype=np.float64)
    lat = np.array([p.lat for p in points], dtype=np.float64)
    zones = zones_along(lon, lat, 2_000.0, "L")
    truth = trace_truth(zones, t, lon, lat)
    days = (t[-1] - t[0]) / 86_400
    wearers = []
    for k in range(phases):
        shift = k * normal / phases
        tag = TraceTag(t, lon, lat, 10.0)
        tag.phase = shift  # the same points, sampled at other moments
        wearers.append(Wearer(f"limerick-{k}", tag, zones, truth, days))
    return wearers


def liverpool_wearers() -> list[Wearer]:
    frame = pl.read_csv(FIXTURES / "liverpool_bus_route14_outbound.csv").sort(
        "vehicle_id", "timestamp"
    )
    stamps = [
        datetime.fromisoformat(s.replace(" ", "T") + "+00:00").timestamp()
        for s in frame["timestamp"]
    ]
    frame = frame.with_columns(pl.Series("t", stamps))
    groups = list(frame.group_by("vehicle_id", maintain_order=True))
    first = groups[0][1]
    zones = zones_along(first["longitude"].to_numpy(), first["latitude"].to_numpy(), 2_000.0, "B")
    wearers = []
    for key, bus in groups:
        t = bus["t"].to_numpy()
        lon, lat = bus["longitude"].to_numpy(), bus["latitude"].to_numpy()
        tag = FixedTag(t, lon, lat, 10.0)
        days = (t[-1] - t[0]) / 86_400
        wearers.append(Wearer(f"bus-{key[0]}", tag, zones, trace_truth(zones, t, lon, lat), days))
    return wearers


# ---------------------------------------------------------------- the closed loop


@dataclass
class Fixes:
    device: list[int] = field(default_factory=list)
    t: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    acc: list[float] = field(default_factory=list)


def run_vigil(
    wearers: list[Wearer], normal: float, fast: float, adaptive: bool, settings: dict[str, float]
) -> tuple[Engine, Fixes, int]:
    """Every tag reports on its own clock; Vigil's commands change the clock of those that obey.

    Returns the engine, every fix sent, and how many commands were sent.
    """
    scenario = {
        "persons": [{"id": w.name, "devices": [w.name], "conditions": w.zones} for w in wearers],
        "settings": settings,
    }
    engine = Engine(parse_plan(scenario))
    for wearer in wearers:
        wearer.device.reset()
    names = [w.name for w in wearers]
    index = {name: i for i, name in enumerate(names)}
    fixed = [not w.device.commandable for w in wearers]
    nxt = np.array([w.device.report_times()[0] + w.device.phase for w in wearers])
    ends = np.array([w.device.report_times()[1] for w in wearers])
    every = np.full(len(wearers), normal)
    last = np.full(len(wearers), -math.inf)
    # Tags that cannot be commanded send what they recorded, when they recorded it.
    cursor = [0] * len(wearers)
    fixes = Fixes()
    commands = 0
    fid = 0
    while True:
        live = nxt <= ends
        if not live.any():
            break
        now = float(nxt[live].min())
        due = np.flatnonzero(live & (nxt < now + 1.0))
        rows: list[tuple[int, float, float, float, float]] = []
        for i in due.tolist():
            device = wearers[i].device
            at = float(nxt[i])
            if fixed[i]:
                tag = device
                assert isinstance(tag, FixedTag)
                j = cursor[i]
                rows.append((i, float(tag.t[j]), float(tag.lon[j]), float(tag.lat[j]), tag.acc))
                cursor[i] = j + 1
                nxt[i] = tag.t[j + 1] if j + 1 < tag.t.size else math.inf
                continue
            seen = device.observe(at)
            if seen is not None:
                rows.append((i, at, *seen))
            last[i] = at
            nxt[i] = at + every[i]
        if rows:
            fid += len(rows)
            for i, at, lon, lat, acc in rows:
                fixes.device.append(i)
                fixes.t.append(at)
                fixes.lon.append(lon)
                fixes.lat.append(lat)
                fixes.acc.append(acc)
            column = np.array([r[1] for r in rows])
            engine.process(
                FixBatch(
                    device_codes=np.array([r[0] for r in rows], dtype=np.int64),
                    device_names=names,
                    t=column,
                    lon=np.array([r[2] for r in rows]),
                    lat=np.array([r[3] for r in rows]),
                    acc=np.array([r[4] for r in rows]),
                    fix_id=np.arange(fid - len(rows) + 1, fid + 1, dtype=np.int64),
                    arrival=column,
                )
            )
        if adaptive:
            for name, want_fast in engine.reporting_changes():
                i = index[name]
                if fixed[i]:
                    continue
                commands += 1
                every[i] = fast if want_fast else normal
                if want_fast:
                    nxt[i] = min(nxt[i], max(last[i] + fast, now + LATENCY_S))
    return engine, fixes, commands


# ---------------------------------------------------------------- the rules and the score

Episode = tuple[str, str, float, float, float]  # wearer, zone, start, end, raised_at


def vigil_episodes(engine: Engine) -> list[Episode]:
    return [
        (e.person, e.condition or "", e.start, math.inf if e.end is None else e.end, e.raised_at)
        for e in engine.ledger.episodes
        if e.kind.value == "exclusion_zone"
    ]


def naive_episodes(wearers: list[Wearer], fixes: Fixes, needed: int) -> list[Episode]:
    """Runs of ``needed`` or more consecutive point-inside fixes, per wearer and zone."""
    device = np.array(fixes.device)
    t, lon, lat = np.array(fixes.t), np.array(fixes.lon), np.array(fixes.lat)
    episodes = []
    for i, wearer in enumerate(wearers):
        mine = np.flatnonzero(device == i)
        mine = mine[np.argsort(t[mine], kind="stable")]
        if not mine.size:
            continue
        for zone in wearer.zones:
            inside = signed_distance(zone, lon[mine], lat[mine]) < 0
            k = 0
            while k < mine.size:
                if not inside[k]:
                    k += 1
                    continue
                j = k
                while j + 1 < mine.size and inside[j + 1]:
                    j += 1
                if j - k + 1 >= needed:
                    tt = t[mine]
                    end = tt[j + 1] if j + 1 < mine.size else tt[j]
                    raised = float(tt[k + needed - 1])
                    episodes.append((wearer.name, zone["id"], float(tt[k]), float(end), raised))
                k = j + 1
    return episodes


@dataclass
class Score:
    false: int
    delays: list[float]
    wearer_days: float
    fixes_per_day: float


def score(wearers: list[Wearer], episodes: list[Episode], fixes: int) -> Score:
    by_name = {w.name: w for w in wearers}
    false = 0
    first: dict[tuple[str, str, int], float] = {}
    for name, zone, start, end, raised in episodes:
        truth = by_name[name].truth[zone]
        if not any(start <= b + MARGIN_S and end >= a - MARGIN_S for a, b in truth.inside):
            false += 1
        for k, (a, b) in enumerate(truth.entries):
            if start <= b + MARGIN_S and end >= a - MARGIN_S:
                key = (name, zone, k)
                first[key] = min(first.get(key, math.inf), raised - a)
    delays = [
        first.get((w.name, zone, k), math.inf)
        for w in wearers
        for zone, truth in w.truth.items()
        for k in range(len(truth.entries))
    ]
    days = sum(w.days for w in wearers)
    return Score(false, delays, days, fixes / days if days else 0.0)


def row(label: str, s: Score) -> list[str]:
    found = [d for d in s.delays if math.isfinite(d)]
    within = sum(1 for d in found if d <= 60)
    return [
        label,
        f"{s.false}",
        f"{100 * s.false / s.wearer_days:.1f}",
        f"{len(found)}/{len(s.delays)}",
        f"{within}/{len(s.delays)}",
        f"{np.median(found):.0f}" if found else "-",
        f"{np.percentile(found, 95):.0f}" if found else "-",
        f"{max(found):.0f}" if found else "-",
        f"{s.fixes_per_day:,.0f}",
    ]


COLUMNS = [
    "rule",
    "false",
    "false / 100 wearer-days",
    "entries found",
    "within 60 s",
    "delay median s",
    "p95 s",
    "max s",
    "fixes / wearer-day",
]


def evaluate(
    title: str,
    wearers: list[Wearer],
    normal: float,
    fast: float,
    console: Console,
    sweep: list[tuple[float, float]],
) -> None:
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "rule" else "right")
    for adaptive in (False, True):
        mode = "adaptive" if adaptive else f"every {normal:g} s"
        engine, fixes, commands = run_vigil(wearers, normal, fast, adaptive, {})
        n = len(fixes.t)
        table.add_row(*row(f"Vigil, {mode}", score(wearers, vigil_episodes(engine), n)))
        table.add_row(
            *row(f"point-in-zone, {mode}", score(wearers, naive_episodes(wearers, fixes, 1), n))
        )
        table.add_row(
            *row(f"two consecutive, {mode}", score(wearers, naive_episodes(wearers, fixes, 2), n))
        )
        if adaptive:
            console.print(f"{title}: {commands} reporting commands sent")
    for confirm, corroborate in sweep:
        settings = {"confirm_llr": confirm, "corroborate_llr": corroborate}
        engine, fixes, _ = run_vigil(wearers, normal, fast, True, settings)
        table.add_row(
            *row(
                f"Vigil adaptive, confirm {confirm:g} / corroborate {corroborate:g}",
                score(wearers, vigil_episodes(engine), len(fixes.t)),
            )
        )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--normal", type=float, default=60.0)
    parser.add_argument("--fast", type=float, default=10.0)
    parser.add_argument("--wearers", type=int, default=40)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer wearers, no sweep")
    parser.add_argument("--only", default="", help="comma-separated data sets to run")
    args = parser.parse_args()
    console = Console(width=170)
    wearers, days = (8, 2) if args.quick else (args.wearers, args.days)
    sweep = [] if args.quick else [(0.5, 0.25), (1.0, 0.5), (2.0, 1.0), (4.0, 2.0)]
    sets: dict[str, Callable[[], tuple[str, list[Wearer]]]] = {
        "residential": lambda: (
            f"Residential error model: {wearers} wearers x {days} days",
            model_wearers("residential", wearers, days, 21),
        ),
        "urban": lambda: (
            f"Urban error model: {wearers} wearers x {days} days",
            model_wearers("urban", wearers, days, 22),
        ),
        "limerick": lambda: (
            "Limerick phone trace, 12 sampling phases",
            limerick_wearers(12, args.normal),
        ),
        "liverpool": lambda: ("Liverpool buses (cannot be commanded)", liverpool_wearers()),
        "week": lambda: (
            f"A week beside a zone: {max(wearers // 2, 4)} wearers x 7 days",
            model_wearers("week", max(wearers // 2, 4), 7, 23),
        ),
        "week-spikes": lambda: (
            f"The same week plus a daily 35 s spike of fixes to the zone's centre: "
            f"{max(wearers // 2, 4)} wearers x 7 days",
            model_wearers("week-spikes", max(wearers // 2, 4), 7, 23),
        ),
    }
    chosen = [s for s in args.only.split(",") if s] or list(sets)
    for name in chosen:
        title, people = sets[name]()
        evaluate(title, people, args.normal, args.fast, console, sweep)


if __name__ == "__main__":
    main()
