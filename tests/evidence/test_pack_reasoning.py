"""The pack's own measurement of the fixes during an episode: against a polygon as well as a
circle, and read the right way round for a zone he must keep out of or stay in."""

from __future__ import annotations

from vigil.evidence.pack import reasoning_json

# A square about 222 m a side around (52.0, -1.0).
SQUARE = {
    "type": "exclusion_zone",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [-1.0016, 51.999],
                [-0.9984, 51.999],
                [-0.9984, 52.001],
                [-1.0016, 52.001],
                [-1.0016, 51.999],
            ]
        ],
    },
}
HOME = {
    "type": "curfew",
    "geometry": {"type": "Point", "coordinates": [-1.0, 52.0]},
    "radius_m": 50.0,
}


def _fix(n: int, lat: float, lon: float, accuracy: float = 5.0) -> dict[str, object]:
    return {
        "id": n,
        "fix_time": f"2026-11-23T10:0{n}:00+00:00",
        "lat": lat,
        "lon": lon,
        "accuracy_m": accuracy,
        "period": "during",
    }


def test_fixes_are_measured_against_a_polygon_zone_as_discs() -> None:
    fixes = [
        _fix(1, 52.0, -1.0),  # the middle: about 111 m inside
        _fix(2, 52.0, -1.0016, accuracy=20.0),  # on the west edge: can't tell
        _fix(3, 52.0, -1.0050),  # about 230 m west of it
    ]
    out = reasoning_json({"detail": {"rule": "dwell"}}, SQUARE, fixes)
    assessed = [r["assessment"] for r in out["fixes_during"]]
    assert assessed == ["certainly inside", "unsure", "certainly outside"]
    assert -115 < out["fixes_during"][0]["distance_to_edge_m"] < -105
    assert (out["certainly_inside"], out["certainly_outside"]) == (1, 1)
    assert out["engine_detail"] == {"rule": "dwell"}


def test_a_curfew_breach_is_the_fixes_certainly_outside_the_address() -> None:
    fixes = [_fix(1, 52.0, -1.0), _fix(2, 52.003, -1.0)]  # at home; 330 m north
    out = reasoning_json({"detail": {}}, HOME, fixes)
    assert [r["assessment"] for r in out["fixes_during"]] == [
        "certainly inside",
        "certainly outside",
    ]
    assert out["certainly_outside"] == 1
    assert out["zone_radius_m"] == 50.0
