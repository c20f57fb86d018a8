"""Subject access: everything Vigil holds about a monitored person, for him, without what would
tell him where the people he must stay away from are.

What is withheld, and why:

- Protected persons: no names, addresses, phones, and no exclusion-zone geometry (a zone is
  drawn around a victim's home). Conditions are listed by kind and dates only.
- Positions that would point at a protected place: every fix within an exclusion zone's reach
  (its radius, its buffer and a further margin) and every fix taken while a proximity alert was
  open (the victim was near him then); the count withheld is stated.
- Alert positions: alerts are listed by kind, severity and times only.

An administrator produces it (a data-protection task); each export is audited with its counts.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vigil.alerts.alert_reads import AlertFilter, AlertRecord, list_alerts
from vigil.db.uow import UnitOfWork
from vigil.evidence import exports
from vigil.evidence.render import render_pdf, render_template
from vigil.orders.model import ConditionType
from vigil.orders.service import OrderView, list_orders
from vigil.people.service import get_person
from vigil.security import audit, permissions
from vigil.security.model import Principal
from vigil.tracking import trail_reads
from vigil.tracking.quality import haversine_m

# Beyond a zone's radius and buffer: far enough that the withheld area does not outline the zone.
MARGIN_M = 500.0
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
ALERT_LIMIT = 100_000


@dataclass(frozen=True)
class Reach:
    """A circle around a protected place: fixes inside it are withheld."""

    lat: float
    lon: float
    radius_m: float

    def covers(self, lat: float, lon: float) -> bool:
        return haversine_m(self.lat, self.lon, lat, lon) <= self.radius_m


def _reach(params: dict[str, Any]) -> Reach | None:
    geometry = params.get("geometry") or {}
    extra = float(params.get("radius_m") or 0) + float(params.get("buffer_m") or 0) + MARGIN_M
    if geometry.get("type") == "Point":
        lon, lat = geometry["coordinates"][:2]
        return Reach(float(lat), float(lon), extra)
    rings = geometry.get("coordinates") or []
    if geometry.get("type") == "MultiPolygon":
        rings = [ring for polygon in rings for ring in polygon]
    points = [(float(lat), float(lon)) for ring in rings for lon, lat, *_ in ring]
    if not points:
        return None
    lat0 = sum(p[0] for p in points) / len(points)
    lon0 = sum(p[1] for p in points) / len(points)
    widest = max(haversine_m(lat0, lon0, lat, lon) for lat, lon in points)
    return Reach(lat0, lon0, widest + extra)


def _reaches(orders: list[OrderView]) -> list[Reach]:
    found = []
    for order in orders:
        for condition in order.conditions:
            if condition.type is ConditionType.EXCLUSION_ZONE:
                reach = _reach(condition.params)
                if reach is not None:
                    found.append(reach)
    return found


def _order_summary(order: OrderView) -> dict[str, Any]:
    return {
        "id": order.id,
        "status": order.status.value,
        "starts_at": order.starts_at.isoformat(),
        "ends_at": order.ends_at.isoformat(),
        "conditions": sorted({c.type.value for c in order.conditions}),
    }


ALERT_FIELDS = (
    "id", "kind", "severity", "status", "started_at", "ended_at", "raised_at", "resolved_at",
    "outcome",
)  # fmt: skip


@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes
    fixes: int
    withheld: int


def export(uow: UnitOfWork, principal: Principal, person_id: int) -> Export:
    principal.require(permissions.SUBJECT_ACCESS)
    person = get_person(uow, principal, person_id)
    now = uow.clock.now()
    orders = list_orders(uow, principal, person_id)
    reaches = _reaches(orders)
    alerts = list_alerts(uow, principal, AlertFilter(person_id=str(person_id), limit=ALERT_LIMIT))
    near_victim = [
        (datetime.fromisoformat(a["started_at"]), _ended(a, now))
        for a in alerts
        if a["kind"] == "proximity" and a["started_at"]
    ]
    fixes = trail_reads.person_fixes(uow.connection, person_id, EARLIEST, now)
    points, withheld = _shown_positions(fixes, reaches, near_victim)
    subject = str(person_id)
    about = {
        "person": {
            "name": person.full_name,
            "date_of_birth": person.date_of_birth.isoformat(),
            "crn": person.crn,
            "pnc_id": person.pnc_id,
            "prison_number": person.prison_number,
            "aliases": person.aliases,
            "managing_team": person.team_name,
            "force_area": person.force_area,
            "risk_level": person.risk_level.value,
            "home_address": person.home_address,
        },
        "orders": [_order_summary(order) for order in orders],
        "alerts": [{key: a.get(key) for key in ALERT_FIELDS} for a in alerts],
        "positions": {"included": len(points), "withheld": withheld},
        "produced_at": now.isoformat(),
    }
    pdf = render_pdf(render_template("evidence/subject_access.html", about=about, generated=now))
    files = {
        "README.txt": README.format(included=len(points), withheld=withheld).encode(),
        "about.json": json.dumps(about, indent=2).encode(),
        "trail.geojson": exports.trail_geojson(subject, points).encode(),
        "trail.csv": exports.trail_csv(subject, points).encode(),
        "alerts.csv": exports.write_csv(
            ALERT_FIELDS, ([a.get(key) for key in ALERT_FIELDS] for a in alerts)
        ).encode(),
        "summary.pdf": pdf,
    }
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="person.subject_access_export",
        subject_type="person",
        subject_id=person_id,
        detail={"fixes": len(points), "withheld": withheld, "alerts": len(alerts)},
    )
    return Export(f"subject-access-{person_id}.zip", _zipped(files), len(points), withheld)


def _shown_positions(
    fixes: Sequence[Any], reaches: Sequence[Reach], near_victim: Sequence[tuple[datetime, datetime]]
) -> tuple[list[exports.TrailPoint], int]:
    """The positions the export may show, and how many it withholds: any within reach of an
    exclusion zone, or taken while he was close to the protected person, would tell where she
    lives or was."""
    points: list[exports.TrailPoint] = []
    withheld = 0
    for fix in fixes:
        if fix.lat is None or fix.lon is None:
            continue
        if any(r.covers(fix.lat, fix.lon) for r in reaches) or any(
            start <= fix.fix_time <= end for start, end in near_victim
        ):
            withheld += 1
            continue
        points.append(
            exports.TrailPoint(
                fix.id, fix.fix_time, fix.lat, fix.lon, fix.accuracy_m, fix.device_id
            )
        )
    return points, withheld


def _zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _ended(alert: AlertRecord, now: datetime) -> datetime:
    ended = alert.get("ended_at") or alert.get("resolved_at")
    return datetime.fromisoformat(ended) if ended else now


README = """Subject access export

about.json   who you are in our records, your orders (kinds and dates), your alerts
trail.csv    your recorded positions (also trail.geojson, for maps)
alerts.csv   the alerts your monitoring raised
summary.pdf  the same, to print

{included} positions are included. {withheld} positions are withheld because they would show
where a person protected by your order lives or was: positions near an exclusion zone, and
positions recorded while an alert said you were near a protected person. Details of protected
persons and the places of exclusion zones are withheld for the same reason.
"""
