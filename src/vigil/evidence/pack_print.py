"""The evidence pack as a document for people: the maps before, during and after, the engine's
reasoning, the device's health and the alert's handling in words, every fix, and the hash and
signature, all from the signed JSON (``pack_html``; ``packs.pack_pdf`` prints it)."""

from __future__ import annotations

import json
import math
from typing import Any

from vigil.evidence import pack_words
from vigil.evidence.maps import Circle, MapSpec, Point, render_svg, zone_shapes
from vigil.evidence.pack import Verification
from vigil.evidence.render import render_template

# The map during the violation spans the page; before and after share a row beneath it.
WIDE = (680, 380)
HALF = (330, 250)
MAX_TIME_LABELS = 8  # more labels than this run into each other
LABEL_GAP_PX = 50
_M_PER_DEG = 111_320.0


def pack_html(document: bytes, verification: Verification) -> str:
    envelope = json.loads(document)
    evidence = envelope["evidence"]
    # A period with no position has no map: an empty frame would look like a missing map.
    maps = {
        period: pack_map_svg(evidence, period, WIDE if period == "during" else HALF)
        if any(f["period"] == period and f.get("lat") is not None for f in evidence["fixes"])
        else None
        for period in ("before", "during", "after")
    }
    return render_template(
        "evidence/pack.html",
        e=evidence,
        envelope=envelope,
        maps=maps,
        verification=verification,
        words=pack_words,
        history={
            a["id"]: pack_words.history_rows(a.get("history", [])) for a in evidence["alerts"]
        },
    )


def pack_map_svg(evidence: dict[str, Any], period: str, size: tuple[int, int] = WIDE) -> str:
    from vigil.evidence.render import environment

    local = environment().filters["local"]
    condition = evidence.get("condition_as_imposed") or {}
    circles, polygons = zone_shapes(condition, str(condition.get("label") or ""))
    fixes = [f for f in evidence["fixes"] if f["period"] == period and f.get("lat") is not None]
    labelled = _spread_out(fixes[:300], circles, size[0])
    spec = MapSpec(
        title=f"{period} the violation",
        circles=circles,
        polygons=polygons,
        trail=[(f["lat"], f["lon"]) for f in fixes],
        points=[
            Point(
                f["lat"],
                f["lon"],
                local(f["fix_time"], "%H:%M") if n in labelled else "",
                f.get("accuracy_m"),
                "highlight" if period == "during" else "fix",
            )
            for n, f in enumerate(fixes[:300])
        ],
        width=size[0],
        height=size[1],
    )
    return render_svg(spec)


def _spread_out(fixes: list[dict[str, Any]], circles: list[Circle], width: int) -> set[int]:
    """Which fixes get a time label: each about ``LABEL_GAP_PX`` on the map from every other
    labelled one (a trail walked in and out again would print its times on top of each other),
    and no more than ``MAX_TIME_LABELS``."""
    if not fixes:
        return set()
    lat0 = math.radians(fixes[0]["lat"])
    xy = [(f["lon"] * math.cos(lat0) * _M_PER_DEG, f["lat"] * _M_PER_DEG) for f in fixes]
    xs, ys = [p[0] for p in xy], [p[1] for p in xy]
    span = max(max(xs) - min(xs), max(ys) - min(ys), *(2 * c.radius_m for c in circles), 100.0)
    chosen: list[int] = []
    for n, (x, y) in enumerate(xy):
        if len(chosen) < MAX_TIME_LABELS and all(
            math.hypot(x - xy[k][0], y - xy[k][1]) >= span * LABEL_GAP_PX / width for k in chosen
        ):
            chosen.append(n)
    return set(chosen)
