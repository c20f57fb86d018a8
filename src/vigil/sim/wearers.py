"""Making up the wearers: home, exclusion zone, curfew, workplace, shops and protected person."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from vigil.sim.model import (
    AREA_CENTRE,
    AREA_HALF_WIDTH_M,
    CURFEW_END,
    CURFEW_GRACE_S,
    CURFEW_RADIUS_M,
    CURFEW_START,
    PROXIMITY_M,
    ZONE_BUFFER_M,
)
from vigil.sim.trajectory import Disc, LocalFrame, Point


def polar(distance: float, bearing: float, origin: Point = (0.0, 0.0)) -> Point:
    return origin[0] + distance * math.sin(bearing), origin[1] + distance * math.cos(bearing)


@dataclass
class Wearer:
    """One monitored person in their local plane (home at the origin)."""

    person: str
    device: str
    frame: LocalFrame
    zone_centre: Point
    zone_radius: float
    work: Point
    shops: list[Point]
    friend: Point
    victim_device: str | None = None
    victim_home: Point | None = None
    victim_shop: Point | None = None

    @property
    def zone(self) -> Disc:
        return Disc(self.zone_centre, self.zone_radius)

    @property
    def keep_out(self) -> Disc:
        """Where ordinary journeys never go: the zone, its buffer and a margin for GPS noise,
        short of home itself (which may be inside the buffer)."""
        home_distance = math.hypot(*self.zone_centre)
        return Disc(
            self.zone_centre, min(self.zone_radius + ZONE_BUFFER_M + 150.0, home_distance - 30.0)
        )

    def conditions_json(self) -> list[dict[str, Any]]:
        """The wearer's conditions in the monitoring plan's shape."""
        lat, lon = self.frame.to_latlon(
            np.array([self.zone_centre[0], 0.0]), np.array([self.zone_centre[1], 0.0])
        )
        out = [
            self._exclusion_zone([round(float(lon[0]), 6), round(float(lat[0]), 6)]),
            _curfew([round(float(lon[1]), 6), round(float(lat[1]), 6)]),
        ]
        if self.victim_device:
            out.append(
                {
                    "id": "X1",
                    "type": "proximity",
                    "device": self.victim_device,
                    "distance_m": PROXIMITY_M,
                }
            )
        return out

    def _exclusion_zone(self, coordinates: list[float]) -> dict[str, Any]:
        return {
            "id": "Z1",
            "type": "exclusion_zone",
            "geometry": {"type": "Point", "coordinates": coordinates},
            "radius_m": round(self.zone_radius, 1),
            "buffer_m": ZONE_BUFFER_M,
        }


def _curfew(coordinates: list[float]) -> dict[str, Any]:
    return {
        "id": "H1",
        "type": "curfew",
        "geometry": {"type": "Point", "coordinates": coordinates},
        "radius_m": CURFEW_RADIUS_M,
        "timetable": [
            {
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start": CURFEW_START.strftime("%H:%M"),
                "end": CURFEW_END.strftime("%H:%M"),
            }
        ],
        "grace_s": CURFEW_GRACE_S,
    }


def make_wearer(index: int, rng: np.random.Generator, *, victim: bool | None = None) -> Wearer:
    frame_x, frame_y = rng.uniform(-AREA_HALF_WIDTH_M, AREA_HALF_WIDTH_M, 2)
    centre = LocalFrame(*AREA_CENTRE)
    home_lat, home_lon = centre.to_latlon(np.array([frame_x]), np.array([frame_y]))
    frame = LocalFrame(float(home_lat[0]), float(home_lon[0]))
    toward = float(rng.uniform(0, 2 * math.pi))
    away = toward + math.pi
    radius = float(rng.uniform(200, 400))
    zone_centre = polar(radius + float(rng.uniform(100, 300)), toward)
    work = polar(float(rng.uniform(2_000, 8_000)), away + float(rng.uniform(-1.0, 1.0)))
    shops = [
        polar(float(rng.uniform(500, 3_000)), away + float(rng.uniform(-1.4, 1.4)))
        for _ in range(2)
    ]
    friend = polar(float(rng.uniform(1_000, 3_000)), away + float(rng.uniform(-1.2, 1.2)))
    wearer = Wearer(
        person=f"P{index + 1:04d}",
        device=f"T{index + 1:04d}",
        frame=frame,
        zone_centre=zone_centre,
        zone_radius=radius,
        work=work,
        shops=shops,
        friend=friend,
    )
    has_victim = bool(rng.random() < 0.35) if victim is None else victim
    if has_victim:
        _give_victim(wearer, index, toward, rng)
    return wearer


def _give_victim(wearer: Wearer, index: int, toward: float, rng: np.random.Generator) -> None:
    """A protected person with a phone, living 4–7 km away beyond the zone, and her shop."""
    wearer.victim_device = f"V{index + 1:04d}"
    wearer.victim_home = polar(
        float(rng.uniform(4_000, 7_000)), toward + float(rng.uniform(-0.4, 0.4))
    )
    wearer.victim_shop = polar(
        float(rng.uniform(500, 1_500)), float(rng.uniform(0, 2 * math.pi)), wearer.victim_home
    )


# ---------------------------------------------------------------------------------------------
# Days
