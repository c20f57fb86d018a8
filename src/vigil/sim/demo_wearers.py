"""Seeding one demo wearer: the person, the protected person, the order, the tag and phone.

Every draw comes from the pilot's seeded random in a fixed order, so the demo is the same every
time; keep the order of the draws when changing this.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from vigil.db.uow import UnitOfWork
from vigil.devices import service as devices
from vigil.devices.model import DeviceType, HolderKind, imei_with_check_digit
from vigil.host import DemoHost
from vigil.orders import pilot_screening
from vigil.orders import service as orders
from vigil.orders.model import OrderDraft, Pilot
from vigil.people import protected_details
from vigil.people import service as people
from vigil.people.model import PersonDraft, ProtectedPersonDraft, Relationship, RiskLevel
from vigil.security.model import Principal, Role
from vigil.sim.demo_teams import DemoTeam

FIRST_NAMES = (
    "Daniel", "Lee", "Craig", "Jason", "Wayne", "Kyle", "Ryan", "Darren", "Marcus", "Jamal",
    "Kieran", "Liam", "Shane", "Aaron", "Dean", "Mohammed", "Tariq", "Gary", "Stephen", "Paul",
    "Connor", "Jordan", "Nathan", "Ashley", "Scott", "Adam", "Karl", "Imran", "Tyrone", "Mark",
)  # fmt: skip
LAST_NAMES = (
    "Walsh", "Turner", "Hughes", "Price", "Morris", "Begum", "Khan", "Campbell", "Reid",
    "Doyle", "Barker", "Lloyd", "Francis", "Hussain", "Clarke", "Wood", "Brennan", "Baker",
    "Grant", "Malik", "Holt", "Stevens", "Ward", "Carter", "Simpson", "Parry", "Evans", "Nash",
)  # fmt: skip
VICTIM_FIRST = (
    "Sarah", "Emma", "Leanne", "Kelly", "Amy", "Gemma", "Nadia", "Chloe", "Rebecca", "Laura",
    "Jade", "Aisha", "Natalie", "Hannah", "Zoe", "Stacey", "Danielle", "Shabana", "Lisa", "Kirsty",
)  # fmt: skip
DEMO_ACTOR = Principal(id=0, name="demo", role=Role.ADMIN, is_machine=True)


def _offset(
    rng: random.Random, lat: float, lon: float, low_m: float, high_m: float
) -> tuple[float, float]:
    distance = rng.uniform(low_m, high_m)
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / 111_320
    dlon = distance * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


@dataclass(frozen=True)
class _Sketch:
    """Who the wearer is and where they live, drawn before anything is written."""

    first: str
    last: str
    born: date
    home: tuple[float, float]
    victim_home: tuple[float, float]
    street: str
    victim_street: str
    district: str
    risk: RiskLevel
    pilot: Pilot


def _sketch(rng: random.Random, team: DemoTeam, today: date) -> _Sketch:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    born = today - timedelta(days=rng.randint(22 * 365, 58 * 365))
    home = _offset(rng, *team.centre, 800, 4500)
    victim_home = _offset(rng, *home, 1500, 5000)
    street, victim_street = rng.sample(team.streets, 2)
    district = rng.choice(team.postcode_districts)
    risk = RiskLevel.VERY_HIGH if rng.random() < 0.3 else RiskLevel.HIGH
    pilot = rng.choices([Pilot.DA_LICENCE, Pilot.DA_HDC, Pilot.DAPO], weights=[6, 3, 1], k=1)[0]
    return _Sketch(
        first, last, born, home, victim_home, street, victim_street, district, risk, pilot
    )


def seed_wearer(
    container: DemoHost,
    rng: random.Random,
    team: DemoTeam,
    team_id: int,
    officer_id: int,
    serial: int,
    now: datetime,
    tz: Any,
) -> None:
    """One wearer on an order, with a tag fitted (and every fourth victim a phone)."""
    today = now.date()
    w = _sketch(rng, team, today)
    with_phone = serial % 4 == 0
    with container.uow() as uow:
        person_id = people.create_person(
            uow, DEMO_ACTOR, _person_draft(rng, w, team, team_id, serial)
        )
        protected_id = protected_details.add_protected_person(
            uow,
            DEMO_ACTOR,
            container.cipher,
            person_id,
            _protected_person_draft(rng, w, team, serial),
        )
        start_day = today - timedelta(days=rng.randint(7, 150))
        starts_at = datetime.combine(start_day, time(0, 0), tzinfo=tz)
        ends_at = datetime.combine(
            start_day + timedelta(days=rng.choice([182, 270, 365])), time(0, 0), tzinfo=tz
        )
        conditions = _conditions(rng, w, team, protected_id, with_phone)
        orders.create_order(
            uow,
            DEMO_ACTOR,
            OrderDraft(
                person_id=person_id,
                pilot=w.pilot,
                starts_at=starts_at,
                ends_at=ends_at,
                responsible_officer_id=officer_id,
                conditions=conditions,
            ),
        )
        _fit_tag(uow, rng, person_id, starts_at)
        if with_phone:
            _give_phone(uow, serial, protected_id, starts_at)
        _screen(container, uow, person_id, w.pilot, team)
        uow.commit()


def _person_draft(
    rng: random.Random, w: _Sketch, team: DemoTeam, team_id: int, serial: int
) -> PersonDraft:
    first, last, born = w.first, w.last, w.born
    return PersonDraft(
        first_name=first,
        last_name=last,
        date_of_birth=born,
        managing_team_id=team_id,
        force_area=team.force,
        risk_level=w.risk,
        pnc_id=f"{born.year + 18 + rng.randint(0, 5)}/{rng.randint(1, 9_999_999):07d}"
        f"{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}",
        prison_number=f"{rng.choice('AG')}{rng.randint(1000, 9999)}"
        f"{rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}",
        crn=f"{team.name[0]}{100000 + serial * 7919 % 900000:06d}",
        aliases=[f"{first[0]}. {last}"] if rng.random() < 0.3 else [],
        home_address=f"{rng.randint(2, 240)} {w.street}, {team.city} {w.district}",
    )


def _protected_person_draft(
    rng: random.Random, w: _Sketch, team: DemoTeam, serial: int
) -> ProtectedPersonDraft:
    return ProtectedPersonDraft(
        full_name=f"{rng.choice(VICTIM_FIRST)} {rng.choice(LAST_NAMES)}",
        relationship=rng.choice([Relationship.FORMER_PARTNER, Relationship.PARTNER]),
        address=f"{rng.randint(1, 180)} {w.victim_street}, {team.city} "
        f"{rng.choice(team.postcode_districts)}",
        phone=f"{team.phone_prefix}{serial:03d}",
        email=f"contact{serial}@example.org",
    )


def _conditions(
    rng: random.Random, w: _Sketch, team: DemoTeam, protected_id: int, with_phone: bool
) -> list[dict[str, Any]]:
    """A curfew at home, an exclusion zone round her home, a trail, and proximity to her phone."""
    home, victim_home = w.home, w.victim_home
    conditions: list[dict[str, Any]] = [
        {
            "type": "curfew",
            "geometry": {"type": "Point", "coordinates": [home[1], home[0]]},
            "radius_m": 60,
            "timetable": [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "start": "19:00",
                    "end": "07:00",
                }
            ],
            "grace_s": 300,
            "address": f"Home ({team.city})",
        },
        {
            "type": "exclusion_zone",
            "label": "Protected person's home",
            "geometry": {"type": "Point", "coordinates": [victim_home[1], victim_home[0]]},
            "radius_m": rng.choice([300, 400, 500]),
            "buffer_m": 250,
            "protected_person_id": protected_id,
        },
        {"type": "trail"},
    ]
    if with_phone:
        conditions.append(
            {"type": "proximity", "protected_person_id": protected_id, "distance_m": 500}
        )
    return conditions


def _fit_tag(uow: UnitOfWork, rng: random.Random, person_id: int, starts_at: datetime) -> None:
    tag_id = devices.register_device(
        uow,
        DEMO_ACTOR,
        external_id=imei_with_check_digit(f"35{rng.randint(10**11, 10**12 - 1):012d}"),
        device_type=DeviceType.GPS_TAG,
        model="Buddi Tag GPS",
    )
    devices.allocate(
        uow,
        DEMO_ACTOR,
        device_id=tag_id,
        holder_kind=HolderKind.PERSON,
        holder_id=person_id,
        fitted_at=starts_at + timedelta(hours=rng.randint(9, 16)),
    )


def _give_phone(uow: UnitOfWork, serial: int, protected_id: int, starts_at: datetime) -> None:
    phone_id = devices.register_device(
        uow,
        DEMO_ACTOR,
        external_id=f"VP-{serial:04d}",
        device_type=DeviceType.PROTECTED_PERSON_PHONE,
        model="Victim app (Android)",
    )
    devices.allocate(
        uow,
        DEMO_ACTOR,
        device_id=phone_id,
        holder_kind=HolderKind.PROTECTED_PERSON,
        holder_id=protected_id,
        fitted_at=starts_at,
    )


def _screen(
    container: DemoHost, uow: UnitOfWork, person_id: int, pilot: Pilot, team: DemoTeam
) -> None:
    pilot_screening.screen_for_pilot(
        uow,
        DEMO_ACTOR,
        person_id=person_id,
        domestic_abuse_sentence=pilot is not Pilot.DAPO,
        release_region_code=team.region,
        accommodation_viable=True,
        proportionality_note="Repeat domestic abuse against a former partner; an exclusion "
        "zone and curfew are the least intrusive way to manage the risk to her.",
        region_capacity=container.settings.pilot_region_capacity,
    )
