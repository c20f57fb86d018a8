"""A known world for the fault suite: wearers on orders with an exclusion zone each, their tags
fitted, a ``device_gateway`` token; a script of fixes (some wearers walk into their zone once);
a sender that posts them through the gateways' fix route as a device would (sending a batch again
until it is acknowledged); and what the tables say afterwards.

Times are the wall clock's: the processes under test run on it. Every script ends a moment before
it is sent, so the test does not depend on the date.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import create_engine, func, select

from tests.conftest import make_settings
from tests.faults.cluster import wait_for
from tests.people.registry import build_registry
from vigil.alerts.tables import alert_deliveries, alerts
from vigil.bootstrap import build_container
from vigil.devices import keys as device_keys
from vigil.devices import service as devices
from vigil.devices.model import DeviceType, HolderKind
from vigil.engine.tables import violations
from vigil.orders import service as orders
from vigil.orders.model import OrderDraft, Pilot
from vigil.people import service as people
from vigil.people.model import PersonDraft, RiskLevel
from vigil.security import machine_tokens
from vigil.security.model import Principal, Role
from vigil.tracking.tables import fixes

SEEDER = Principal(id=0, name="fault-suite", role=Role.ADMIN, is_machine=True)
M_PER_DEG = 111_320.0
ZONE_RADIUS_M = 300.0
HOME_FROM_ZONE_M = 700.0  # clear of the zone and its 250 m warning buffer
STEP_S = 10.0  # a fix every 10 s: one tag's usual rate near a zone


@dataclass(frozen=True)
class Wearer:
    person_id: int
    device: str
    zone: tuple[float, float]  # lat, lon
    walks_in: int | None
    """In which half of the script he walks into his zone (0 or 1), if at all."""

    def home(self) -> tuple[float, float]:
        lat, lon = self.zone
        return lat, lon + HOME_FROM_ZONE_M / (M_PER_DEG * math.cos(math.radians(lat)))


@dataclass(frozen=True)
class World:
    wearers: list[Wearer]
    token: str
    """A ``device_gateway`` bearer token, for ``/api/gateways/fixes``."""
    keys: dict[str, str]
    """Each tag's key for the OsmAnd door."""

    def incursions(self) -> list[Wearer]:
        return [w for w in self.wearers if w.walks_in is not None]


def seed(database_url: str, wearers: int, incursions: int) -> World:
    """``wearers`` on orders in force, each with a tag; the first ``incursions`` will walk in,
    alternately in the first and the second half of the script."""
    container = build_container(make_settings(database_url))
    registry = build_registry(container)
    now = datetime.now(UTC)
    found = []
    keys = {}
    with container.uow() as uow:
        for n in range(wearers):
            person = people.create_person(uow, SEEDER, _person(n, registry.birmingham))
            # Spread over Birmingham on a grid 2 km apart, so no wearer is near another's zone.
            zone = (52.40 + (n // 20) * 0.02, -2.05 + (n % 20) * 0.03)
            orders.create_order(uow, SEEDER, _order(person, registry.officer_id, zone, now))
            device = f"35{7_000_000_000_000 + n:013d}"
            tag = devices.register_device(
                uow, SEEDER, external_id=device, device_type=DeviceType.GPS_TAG, model="fault tag"
            )
            devices.allocate(
                uow, SEEDER, device_id=tag, holder_kind=HolderKind.PERSON, holder_id=person,
                fitted_at=now - timedelta(days=1),
            )  # fmt: skip
            keys[device] = device_keys.issue_key(uow, SEEDER, tag)
            found.append(Wearer(person, device, zone, n % 2 if n < incursions else None))
        token = machine_tokens.create_token(uow, role=Role.DEVICE_GATEWAY, name="fault suite")
        uow.commit()
    container.engine.dispose()
    return World(found, token, keys)


def _person(n: int, team: int) -> PersonDraft:
    return PersonDraft(
        first_name="Wearer", last_name=f"Number{n}", date_of_birth=date(1985, 1, 1),
        managing_team_id=team, force_area="WMP", risk_level=RiskLevel.HIGH,
        crn=f"F{100000 + n}",
    )  # fmt: skip


def _order(person: int, officer: int, zone: tuple[float, float], now: datetime) -> OrderDraft:
    lat, lon = zone
    return OrderDraft(
        person_id=person, pilot=Pilot.DA_LICENCE, starts_at=now - timedelta(days=2),
        ends_at=now + timedelta(days=180), responsible_officer_id=officer,
        conditions=[{"type": "exclusion_zone", "radius_m": ZONE_RADIUS_M, "buffer_m": 250,
                     "geometry": {"type": "Point", "coordinates": [lon, lat]}}],
    )  # fmt: skip


def path(wearer: Wearer, steps: int) -> list[tuple[float, float]]:
    """Where the wearer is at each of ``steps`` fixes: at home; or, for an incursion, at home,
    a drive in at 10 m/s, 100 s deep inside, the drive out, and home again, all within his half
    of the script."""
    home = wearer.home()
    if wearer.walks_in is None:
        return [home] * steps
    zone_lat, zone_lon = wearer.zone
    drive = [(zone_lat, zone_lon + (home[1] - zone_lon) * k / 7) for k in range(6, 0, -1)]
    trip = drive + [wearer.zone] * 10 + drive[::-1]
    half = steps // 2
    assert half >= len(trip) + 2, f"{steps} steps are too few for an incursion in each half"
    before = 1 if wearer.walks_in == 0 else half
    return [home] * before + trip + [home] * (steps - before - len(trip))


@dataclass(frozen=True)
class Script:
    """Every wearer's fixes as JSON rows, in the order a tag would send them."""

    rows: list[dict[str, object]]

    def halves(self) -> tuple[Script, Script]:
        """Before and from the middle step, each with its own incursions."""
        middle = len(self.rows) // 2
        return Script(self.rows[:middle]), Script(self.rows[middle:])


def script(world: World, steps: int = 50, ends: datetime | None = None) -> Script:
    """``steps`` fixes per wearer, ``STEP_S`` apart, the last at ``ends`` (now)."""
    # Whole seconds: the OsmAnd door carries the time as seconds since 1970.
    ends = ends or datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    rows: list[dict[str, object]] = []
    for k in range(steps):
        at = ends - timedelta(seconds=STEP_S * (steps - 1 - k))
        for wearer in world.wearers:
            lat, lon = path(wearer, steps)[k]
            rows.append(
                {"device": wearer.device, "time": at.isoformat(), "lat": round(lat, 6),
                 "lon": round(lon, 6), "accuracy_m": 8.0}
            )  # fmt: skip
    return Script(rows)


@dataclass
class Sender:
    """Posts batches to ``/api/gateways/fixes`` in a thread, as a gateway client would: a batch
    is sent again until it is acknowledged (2xx), and only acknowledged fixes count as sent."""

    base_url: str
    token: str
    batch: int = 50
    acknowledged: list[dict[str, object]] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    _thread: threading.Thread | None = None

    def post(self, rows: list[dict[str, object]]) -> int:
        """The answer's status; 0 when there was none (refused, cut, timed out)."""
        try:
            return httpx.post(
                f"{self.base_url}/api/gateways/fixes",
                json={"fixes": rows},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=30,
            ).status_code
        except httpx.HTTPError as exc:
            self.refused[type(exc).__name__] += 1
            return 0

    def send(self, script_: Script, pause_s: float = 0.0, give_up_s: float = 300.0) -> None:
        for start in range(0, len(script_.rows), self.batch):
            rows = script_.rows[start : start + self.batch]
            deadline = time.monotonic() + give_up_s
            while (status := self.post(rows)) // 100 != 2:
                self.refused[str(status)] += 1
                assert time.monotonic() < deadline, f"batch never acknowledged: {self.refused}"
                time.sleep(0.5)
            self.acknowledged.extend(rows)
            if pause_s:
                time.sleep(pause_s)

    def wait_acknowledged(self, count: float, timeout: float = 60) -> None:
        wait_for(
            lambda: len(self.acknowledged) >= count,
            timeout,
            f"{count:.0f} acknowledged",
            lambda: f"; {len(self.acknowledged)} so far, refused {dict(self.refused)}",
        )

    def send_in_background(self, script_: Script, pause_s: float = 0.0) -> None:
        self._thread = threading.Thread(target=self.send, args=(script_, pause_s), daemon=True)
        self._thread.start()

    def join(self, timeout: float = 300.0) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the sender is still sending"


@dataclass
class OsmandSender(Sender):
    """A tag on the OsmAnd door instead: one request a fix, each its own acknowledgement."""

    keys: dict[str, str] = field(default_factory=dict)
    batch: int = 1
    # One keep-alive connection, as a tag holds one (opened again after a failure).
    _client: httpx.Client | None = None

    def post(self, rows: list[dict[str, object]]) -> int:
        if self._client is None:
            self._client = httpx.Client(base_url=self.base_url, timeout=30)
        for row in rows:
            query = (
                f"id={row['device']}&lat={row['lat']}&lon={row['lon']}"
                f"&timestamp={datetime.fromisoformat(str(row['time'])).timestamp():.0f}"
                f"&accuracy={row['accuracy_m']}"
            )
            try:
                status = self._client.get(f"/{self.keys[str(row['device'])]}?{query}").status_code
            except httpx.HTTPError as exc:
                self.refused[type(exc).__name__] += 1
                self._client.close()
                self._client = None
                return 0
            if status != 200:
                return status
        return 200


class Tables:
    """What the database says, read from the test's side."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url, pool_pre_ping=True)

    def fix_counts(self) -> Counter[tuple[str, datetime]]:
        """Stored rows per (device, fix time): each acknowledged fix should be there once."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(fixes.c.device_id, fixes.c.fix_time)).all()
        return Counter((row[0], _utc(row[1])) for row in rows)

    def stored(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(fixes)).scalar_one())

    def zone_violations(self) -> Counter[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(violations.c.person_id).where(violations.c.kind == "exclusion_zone")
            ).all()
        return Counter(str(row[0]) for row in rows)

    def zone_alerts(self) -> Counter[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(alerts.c.person_id).where(alerts.c.kind == "exclusion_zone")
            ).all()
        return Counter(str(row[0]) for row in rows)

    def deliveries(self) -> Counter[tuple[str, str]]:
        """(channel, status) of every alert delivery."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(alert_deliveries.c.channel, alert_deliveries.c.status)).all()
        return Counter((row[0], row[1]) for row in rows)

    def delivery_keys(self, channel: str) -> set[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(alert_deliveries.c.idempotency_key).where(
                    alert_deliveries.c.channel == channel
                )
            ).all()
        return {row[0] for row in rows}

    def dispose(self) -> None:
        self.engine.dispose()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def expected_counts(rows: list[dict[str, object]]) -> Counter[tuple[str, datetime]]:
    return Counter(
        (str(row["device"]), datetime.fromisoformat(str(row["time"])).astimezone(UTC))
        for row in {json.dumps(r, sort_keys=True): r for r in rows}.values()
    )
