"""The GPS model: fix times, noise, outliers, dropouts, late uploads, battery and alarms.

A fix a minute; reported accuracy 10–60 m with errors to match; about 0.3% outliers of 200–900 m
reporting a matching, large accuracy; dropouts of 5–45 minutes, kept away from incidents; blocks
of fixes buffered on the device and uploaded late (a ``received`` time after the fix time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from vigil.sim.journeys import DayPlan
from vigil.sim.model import Rows, SimConfig, SimRow
from vigil.sim.trajectory import LocalFrame, Trajectory
from vigil.tracking.model import Alarm


def _in_any(at: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    mask = np.zeros(at.shape, dtype=bool)
    for a, b in spans:
        mask |= (at >= a) & (at < b)
    return mask


@dataclass
class _Samples:
    """One device's fixes as parallel arrays, before noise and positions."""

    at: np.ndarray
    received: np.ndarray
    keep: np.ndarray
    battery: np.ndarray
    alarm: np.ndarray  # 1 = strap removed
    no_position: np.ndarray

    @classmethod
    def at_times(cls, at: np.ndarray, received: np.ndarray) -> _Samples:
        return cls(
            at=at,
            received=received,
            keep=np.ones(at.size, dtype=bool),
            battery=np.full(at.size, np.nan),
            alarm=np.zeros(at.size, dtype=np.int8),
            no_position=np.zeros(at.size, dtype=bool),
        )


def sample_device(
    device: str,
    path: Trajectory,
    frame: LocalFrame,
    plans: list[tuple[float, float, DayPlan]],
    rng: np.random.Generator,
    config: SimConfig,
    rows: Rows,
    *,
    interval_s: float,
    accuracy: tuple[float, float] = (10.0, 60.0),
    phone: bool = False,
) -> None:
    """Fix times, noise, outliers, dropouts, late uploads, battery and alarms for one device."""
    start, end = path.times[0], path.times[-1]
    at = np.arange(start + float(rng.uniform(0, interval_s)), end, interval_s)
    at = at + rng.uniform(-2, 2, at.size)
    s = _Samples.at_times(at, at + rng.uniform(1, 10, at.size))
    for day_start, day_end, plan in plans:
        if not phone:
            _battery(s, day_start, day_end, plan)
        _apply_day_plan(s, day_start, plan, rng, config)
    lat, lon, acc = _positions(s, path, frame, rng, config, accuracy, phone)
    _append_kept(rows, device, s, lat, lon, acc)


def _append_kept(
    rows: Rows, device: str, s: _Samples, lat: np.ndarray, lon: np.ndarray, acc: np.ndarray
) -> None:
    keep = s.keep
    rows.device.extend([device] * int(keep.sum()))
    rows.fix_time.append(s.at[keep])
    rows.received.append(s.received[keep])
    rows.lat.append(lat[keep])
    rows.lon.append(lon[keep])
    rows.accuracy.append(acc[keep])
    rows.battery.append(s.battery[keep])
    rows.alarm.append(s.alarm[keep])


def _battery(s: _Samples, day_start: float, day_end: float, plan: DayPlan) -> None:
    at, battery = s.at, s.battery
    in_day = (at >= day_start) & (at < day_end)
    hours = (at - day_start) / 3600
    level, drain = plan.battery or (100.0, 3.0)
    battery[in_day] = np.clip(level - drain * hours[in_day], 0, 100)
    # Charging from 20:00 local on (the wearer plugs in at home).
    evening = in_day & (hours >= 20)
    battery[evening] = np.minimum(
        100, np.clip(level - drain * 20, 0, 100) + 40 * (hours[evening] - 20)
    )


def _apply_day_plan(
    s: _Samples, day_start: float, plan: DayPlan, rng: np.random.Generator, config: SimConfig
) -> None:
    """Dropouts, a late-uploaded block, GPS loss, silence and the strap alarm of one day."""
    at = s.at
    protected = _in_any(at, plan.protect)
    for _ in range(int(rng.poisson(config.dropouts_per_day))):
        a = day_start + float(rng.uniform(0, 86_400))
        span = (a, a + float(rng.uniform(300, 2_700)))
        drop = _in_any(at, [span]) & ~protected
        s.keep &= ~drop
    _late_upload(s, day_start, plan, rng, config)
    if plan.gps_loss is not None:
        s.no_position |= _in_any(at, [plan.gps_loss])
    if plan.silent is not None:
        s.keep &= ~_in_any(at, [plan.silent])
    if plan.strap_at is not None:
        index = int(np.searchsorted(at, plan.strap_at))
        if index < at.size:
            at[index] = plan.strap_at
            s.received[index] = plan.strap_at + 2
            s.alarm[index] = 1
            s.keep[index] = True


def _late_upload(
    s: _Samples, day_start: float, plan: DayPlan, rng: np.random.Generator, config: SimConfig
) -> None:
    plan_block: tuple[float, float] | None = plan.buffered
    if plan_block is None and rng.random() < config.buffered_block_rate:
        a = day_start + float(rng.uniform(0, 86_400 - 3_600))
        plan_block = (a, a + float(rng.uniform(600, 3_600)))
    if plan_block is not None:
        block = _in_any(s.at, [plan_block])
        s.received[block] = (
            plan_block[1] + float(rng.uniform(5, 120)) + np.arange(int(block.sum())) * 0.01
        )


def _positions(
    s: _Samples,
    path: Trajectory,
    frame: LocalFrame,
    rng: np.random.Generator,
    config: SimConfig,
    accuracy: tuple[float, float],
    phone: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latitude, longitude and reported accuracy of each fix, noise and outliers included."""
    at = s.at
    x, y = path.positions(at)
    acc = np.clip(rng.lognormal(math.log(22), 0.45, at.size), *accuracy)
    sigma = acc / 1.5
    x = x + rng.normal(0, 1, at.size) * sigma
    y = y + rng.normal(0, 1, at.size) * sigma
    if not phone:
        outlier = (rng.random(at.size) < config.outlier_rate) & ~s.no_position & (s.alarm == 0)
        jump = rng.uniform(200, 900, at.size)
        bearing = rng.uniform(0, 2 * math.pi, at.size)
        x = np.where(outlier, x + jump * np.sin(bearing), x)
        y = np.where(outlier, y + jump * np.cos(bearing), y)
        acc = np.where(outlier, jump * rng.uniform(0.8, 1.5, at.size), acc)
    lat, lon = frame.to_latlon(x, y)
    lat[s.no_position] = np.nan
    lon[s.no_position] = np.nan
    acc[s.no_position] = np.nan
    return lat, lon, acc


def in_arrival_order(rows: Rows) -> list[SimRow]:
    """The device rows as ``SimRow``s in the order they reach the server."""
    if not rows.fix_time:
        return []
    fix_time = np.concatenate(rows.fix_time)
    received = np.concatenate(rows.received)
    lat, lon = np.concatenate(rows.lat), np.concatenate(rows.lon)
    acc, battery = np.concatenate(rows.accuracy), np.concatenate(rows.battery)
    alarm = np.concatenate(rows.alarm)
    # Arrival order: by receive time; ties by device then fix time, so output is deterministic.
    device_rank = np.unique(np.asarray(rows.device), return_inverse=True)[1]
    order = np.lexsort((fix_time, device_rank, np.round(received, 3)))
    devices = np.asarray(rows.device)[order].tolist()
    fix_s = np.round(fix_time[order]).astype(np.int64).tolist()
    recv_s = np.round(received[order]).astype(np.int64).tolist()
    lats = np.round(lat[order], 6).tolist()
    lons = np.round(lon[order], 6).tolist()
    accs = np.round(acc[order], 1).tolist()
    levels = np.round(battery[order]).tolist()
    alarms = alarm[order].tolist()
    return [
        _sim_row(*fields)
        for fields in zip(devices, fix_s, recv_s, lats, lons, accs, levels, alarms, strict=True)
    ]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _sim_row(
    device: str,
    fix_s: int,
    recv_s: int,
    lat: float,
    lon: float,
    acc: float,
    level: float,
    alarm: int,
) -> SimRow:
    has_position = lat == lat  # NaN marks a fix without a position
    return SimRow(
        device=device,
        fix_time=_EPOCH + timedelta(seconds=fix_s),
        received=_EPOCH + timedelta(seconds=recv_s),
        lat=lat if has_position else None,
        lon=lon if has_position else None,
        accuracy_m=acc if has_position else None,
        battery=None if level != level else level,
        alarm=Alarm.STRAP_REMOVED.value if alarm == 1 else "",
    )
