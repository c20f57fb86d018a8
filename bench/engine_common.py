"""Synthetic wearers, zones and fixes for the engine benchmarks (deterministic from a seed)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from vigil.engine.core import FixBatch

T0 = 1_795_420_800.0  # 2026-11-23T08:00:00Z
M_PER_DEG_LAT = 111_250.0


def offset(
    lon: np.ndarray, lat: np.ndarray, east: np.ndarray, north: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    return lon + east / (111_320.0 * np.cos(np.radians(lat))), lat + north / M_PER_DEG_LAT


@dataclass
class World:
    scenario: dict[str, Any]
    home_lon: np.ndarray
    home_lat: np.ndarray
    zone_lon: np.ndarray  # (wearers, zones): centres
    zone_lat: np.ndarray


def polygon(
    lon: float, lat: float, radius: float, vertices: int, rng: np.random.Generator
) -> list[list[float]]:
    spacing = 2 * math.pi / vertices
    angles = np.arange(vertices) * spacing + rng.uniform(0, spacing / 3, vertices)
    radii = radius * rng.uniform(0.7, 1.0, vertices)
    xs, ys = offset(
        np.full(vertices, lon),
        np.full(vertices, lat),
        radii * np.cos(angles),
        radii * np.sin(angles),
    )
    ring = [[float(x), float(y)] for x, y in zip(xs, ys, strict=True)]
    return [*ring, ring[0]]


def make_world(wearers: int = 10_000, zones_per: int = 3, seed: int = 1) -> World:
    rng = np.random.default_rng(seed)
    home_lon = rng.uniform(-3.0, 0.0, wearers)
    home_lat = rng.uniform(51.0, 54.0, wearers)
    distance = rng.uniform(2_000, 15_000, (wearers, zones_per))
    bearing = rng.uniform(0, 2 * math.pi, (wearers, zones_per))
    zlon, zlat = offset(
        np.repeat(home_lon[:, None], zones_per, 1),
        np.repeat(home_lat[:, None], zones_per, 1),
        distance * np.cos(bearing),
        distance * np.sin(bearing),
    )
    persons = []
    for w in range(wearers):
        conditions = []
        for z in range(zones_per):
            ident = f"Z{z}"
            if (w + z) % 2 == 0:
                conditions.append(
                    {
                        "id": ident,
                        "type": "exclusion_zone",
                        "radius_m": float(rng.uniform(150, 500)),
                        "buffer_m": 200.0,
                        "geometry": {
                            "type": "Point",
                            "coordinates": [float(zlon[w, z]), float(zlat[w, z])],
                        },
                    }
                )
            else:
                ring = polygon(
                    float(zlon[w, z]),
                    float(zlat[w, z]),
                    float(rng.uniform(200, 600)),
                    int(rng.integers(6, 16)),
                    rng,
                )
                conditions.append(
                    {
                        "id": ident,
                        "type": "exclusion_zone",
                        "buffer_m": 200.0,
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                )
        persons.append({"id": f"W{w}", "devices": [f"T{w}"], "conditions": conditions})
    return World({"timezone": "Europe/London", "persons": persons}, home_lon, home_lat, zlon, zlat)


def make_fixes(
    world: World,
    per_wearer: int = 100,
    every_s: float = 10.0,
    seed: int = 2,
    visitors: float = 0.02,
) -> FixBatch:
    """Every wearer reports every ``every_s``; most wander near home, a few walk into a zone."""
    rng = np.random.default_rng(seed)
    wearers = world.home_lon.shape[0]
    steps = rng.normal(0, 1.5 * every_s, (wearers, per_wearer, 2)).cumsum(axis=1)
    lon, lat = offset(
        world.home_lon[:, None], world.home_lat[:, None], steps[..., 0], steps[..., 1]
    )
    visiting = rng.random(wearers) < visitors
    for w in np.flatnonzero(visiting):
        # Walk from 600 m west of zone 0's centre straight through it.
        share = np.linspace(0, 1, per_wearer)
        lon[w], lat[w] = offset(
            np.full(per_wearer, world.zone_lon[w, 0]),
            np.full(per_wearer, world.zone_lat[w, 0]),
            -600 + 1200 * share,
            np.zeros(per_wearer),
        )
    acc = rng.uniform(5, 60, (wearers, per_wearer))
    noise = rng.normal(0, 1, (wearers, per_wearer, 2)) * (acc / 2)[..., None]
    lon, lat = offset(lon, lat, noise[..., 0], noise[..., 1])
    phase = rng.uniform(0, every_s, wearers)
    t = T0 + phase[:, None] + every_s * np.arange(per_wearer)[None, :]
    order = np.argsort(t.ravel(), kind="stable")  # arrival order = time order, all interleaved
    device = np.repeat(np.arange(wearers), per_wearer)[order]
    return FixBatch(
        device_codes=device.astype(np.int64),
        device_names=[f"T{w}" for w in range(wearers)],
        t=t.ravel()[order],
        lon=lon.ravel()[order],
        lat=lat.ravel()[order],
        acc=acc.ravel()[order],
        fix_id=np.arange(1, wearers * per_wearer + 1, dtype=np.int64),
    )


def slice_batch(batch: FixBatch, lo: int, hi: int) -> FixBatch:
    return FixBatch(
        device_codes=batch.device_codes[lo:hi],
        device_names=batch.device_names,
        t=batch.t[lo:hi],
        lon=batch.lon[lo:hi],
        lat=batch.lat[lo:hi],
        acc=batch.acc[lo:hi],
        fix_id=batch.fix_id[lo:hi],
    )
