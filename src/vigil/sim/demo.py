"""Seeds the demo database: staff logins for every role and a believable Midlands pilot.

The pilot: probation teams in Birmingham, Coventry, Nottingham and Leicester, an officer login per
team and a police login per force, about forty wearers on domestic-abuse orders with curfews at
home (19:00–07:00), exclusion zones around their victims' homes, GPS tags, and for some victims a
phone that carries a proximity zone. A seeded random makes it the same every time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from vigil.contact import demo as contact_demo
from vigil.devices import service as devices
from vigil.devices.model import DeviceType, HolderKind, imei_with_check_digit
from vigil.evidence import demo as evidence_demo
from vigil.harm import demo as harm_demo
from vigil.host import DemoHost
from vigil.orders import service as orders
from vigil.orders.model import OrderDraft, Pilot
from vigil.people import service as people
from vigil.people.model import PersonDraft, ProtectedPersonDraft, Relationship, RiskLevel
from vigil.security import service as security_service
from vigil.security.model import Principal, Role
from vigil.security.tables import users

# Demo-only passwords, printed at start-up; never used outside `vigil demo`.
DEMO_PASSWORD = "vigil-demo-password"
DEMO_SEED = 20260323
WEARERS_PER_TEAM = 10

DemoLogin = tuple[str, str, str]

STAFF: tuple[tuple[str, str, Role], ...] = (
    ("operator", "Sam Okafor", Role.MONITORING_OPERATOR),
    ("admin", "Alex Reid", Role.ADMIN),
    ("auditor", "Jo Lindqvist", Role.AUDITOR),
    ("analyst", "Priya Shah", Role.ANALYST),
    ("casehandler", "Morgan Ellis", Role.UPCS_CASE_HANDLER),
)


@dataclass(frozen=True)
class DemoTeam:
    name: str
    region: str
    force: str
    login: str
    officer: str
    city: str
    centre: tuple[float, float]  # lat, lon
    streets: tuple[str, ...]
    postcode_districts: tuple[str, ...]
    phone_prefix: str  # Ofcom's ranges reserved for drama, so no real line is named


TEAMS: tuple[DemoTeam, ...] = (
    DemoTeam(
        "Birmingham North",
        "WM",
        "WMP",
        "officer",
        "Dana Whitfield",
        "Birmingham",
        (52.4862, -1.8904),
        (
            "Slade Road",
            "Kingstanding Road",
            "College Road",
            "Gravelly Lane",
            "Witton Road",
            "Soho Road",
            "Church Road",
            "Marsh Lane",
            "Sutton New Road",
            "Short Heath Road",
        ),
        ("B23", "B44", "B42", "B6", "B20", "B24"),
        "01214960",
    ),
    DemoTeam(
        "Coventry",
        "WM",
        "WMP",
        "officer.coventry",
        "Imran Haq",
        "Coventry",
        (52.4068, -1.5197),
        (
            "Foleshill Road",
            "Holbrook Lane",
            "Stoney Stanton Road",
            "Walsgrave Road",
            "Binley Road",
            "Earlsdon Avenue",
            "Radford Road",
            "Tile Hill Lane",
        ),
        ("CV1", "CV2", "CV3", "CV5", "CV6"),
        "02476960",
    ),
    DemoTeam(
        "Nottingham City",
        "EM",
        "NOT",
        "officer.nottingham",
        "Claire Bexley",
        "Nottingham",
        (52.9548, -1.1581),
        (
            "Alfreton Road",
            "Hucknall Road",
            "Mansfield Road",
            "Carlton Road",
            "Radford Road",
            "Wollaton Road",
            "Sneinton Dale",
            "Bulwell Lane",
        ),
        ("NG5", "NG6", "NG7", "NG3", "NG8"),
        "01214960",
    ),
    DemoTeam(
        "Leicester",
        "EM",
        "LEI",
        "officer.leicester",
        "Tom Ashworth",
        "Leicester",
        (52.6369, -1.1398),
        (
            "Narborough Road",
            "Belgrave Road",
            "Melton Road",
            "Uppingham Road",
            "Humberstone Road",
            "Aylestone Road",
            "Fosse Road North",
            "Saffron Lane",
        ),
        ("LE2", "LE3", "LE4", "LE5"),
        "01164960",
    ),
)

POLICE: tuple[tuple[str, str, str], ...] = (
    ("police.wmp", "Insp. Rachel Onuoha", "WMP"),
    ("police.notts", "DS Mark Ellery", "NOT"),
    ("police.leics", "DC Aisha Patel", "LEI"),
)

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


def _add_staff(container: DemoHost, existing: set[str], logins: list[DemoLogin]) -> None:
    with container.uow() as uow:
        for username, display_name, role in STAFF:
            if username not in existing:
                security_service.add_user(
                    uow,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    display_name=display_name,
                    actor="demo",
                )
            logins.append((username, DEMO_PASSWORD, role.value))


def seed_demo(container: DemoHost) -> list[DemoLogin]:
    """Idempotent: a second run finds the data already there and only lists the logins."""
    logins: list[DemoLogin] = []
    with container.uow() as uow:
        existing = set(uow.connection.execute(select(users.c.username)).scalars())
    _add_staff(container, existing, logins)
    with container.uow() as uow:
        people.ensure_reference_data(uow)
        seeded = people.team_by_name(uow, TEAMS[0].name) is not None
    if not seeded:
        _seed_pilot(container, existing)
    # The other services' demo data; each seeding is idempotent on its own.
    contact_demo.seed(container)
    harm_demo.seed(container)
    evidence_demo.seed(container)
    for team in TEAMS:
        logins.append((team.login, DEMO_PASSWORD, Role.PROBATION_OFFICER.value))
    for username, _name, _force in POLICE:
        logins.append((username, DEMO_PASSWORD, Role.POLICE.value))
    return logins


def _seed_pilot(container: DemoHost, existing: set[str]) -> None:
    rng = random.Random(DEMO_SEED)
    now = container.clock.now()
    tz = container.settings.tz
    for username, name, force in POLICE:
        if username not in existing:
            with container.uow() as uow:
                security_service.add_user(
                    uow,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=Role.POLICE,
                    display_name=name,
                    force_area=force,
                    actor="demo",
                )
    serial = 0
    for team in TEAMS:
        with container.uow() as uow:
            team_id = people.add_team(
                uow, name=team.name, region_code=team.region, force_area=team.force, actor="demo"
            )
            user_id = None
            if team.login not in existing:
                user_id = security_service.add_user(
                    uow,
                    username=team.login,
                    password=DEMO_PASSWORD,
                    role=Role.PROBATION_OFFICER,
                    display_name=team.officer,
                    team_id=team_id,
                    actor="demo",
                )
            officer_id = people.add_officer(
                uow,
                name=team.officer,
                team_id=team_id,
                user_id=user_id,
                email=f"{team.login}@probation.example.gov.uk",
                actor="demo",
            )
        for _ in range(WEARERS_PER_TEAM):
            serial += 1
            _seed_wearer(container, rng, team, team_id, officer_id, serial, now, tz)


def _seed_wearer(
    container: DemoHost,
    rng: random.Random,
    team: DemoTeam,
    team_id: int,
    officer_id: int,
    serial: int,
    now: datetime,
    tz: Any,
) -> None:
    today = now.date()
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    born = today - timedelta(days=rng.randint(22 * 365, 58 * 365))
    home = _offset(rng, *team.centre, 800, 4500)
    victim_home = _offset(rng, *home, 1500, 5000)
    street, victim_street = rng.sample(team.streets, 2)
    district = rng.choice(team.postcode_districts)
    risk = RiskLevel.VERY_HIGH if rng.random() < 0.3 else RiskLevel.HIGH
    pilot = rng.choices([Pilot.DA_LICENCE, Pilot.DA_HDC, Pilot.DAPO], weights=[6, 3, 1], k=1)[0]
    with_phone = serial % 4 == 0
    with container.uow() as uow:
        person_id = people.create_person(
            uow,
            DEMO_ACTOR,
            PersonDraft(
                first_name=first,
                last_name=last,
                date_of_birth=born,
                managing_team_id=team_id,
                force_area=team.force,
                risk_level=risk,
                pnc_id=f"{born.year + 18 + rng.randint(0, 5)}/{rng.randint(1, 9_999_999):07d}"
                f"{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}",
                prison_number=f"{rng.choice('AG')}{rng.randint(1000, 9999)}"
                f"{rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}",
                crn=f"{team.name[0]}{100000 + serial * 7919 % 900000:06d}",
                aliases=[f"{first[0]}. {last}"] if rng.random() < 0.3 else [],
                home_address=f"{rng.randint(2, 240)} {street}, {team.city} {district}",
            ),
        )
        protected_id = people.add_protected_person(
            uow,
            DEMO_ACTOR,
            container.cipher,
            person_id,
            ProtectedPersonDraft(
                full_name=f"{rng.choice(VICTIM_FIRST)} {rng.choice(LAST_NAMES)}",
                relationship=rng.choice([Relationship.FORMER_PARTNER, Relationship.PARTNER]),
                address=f"{rng.randint(1, 180)} {victim_street}, {team.city} "
                f"{rng.choice(team.postcode_districts)}",
                phone=f"{team.phone_prefix}{serial:03d}",
                email=f"contact{serial}@example.org",
            ),
        )
        start_day = today - timedelta(days=rng.randint(7, 150))
        starts_at = datetime.combine(start_day, time(0, 0), tzinfo=tz)
        ends_at = datetime.combine(
            start_day + timedelta(days=rng.choice([182, 270, 365])), time(0, 0), tzinfo=tz
        )
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
        orders.create_order(
            uow,
            DEMO_ACTOR,
            OrderDraft(
                person_id=person_id,
                pilot=pilot,
                starts_at=starts_at,
                ends_at=ends_at,
                responsible_officer_id=officer_id,
                conditions=conditions,
            ),
        )
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
        if with_phone:
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
        orders.screen_for_pilot(
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
