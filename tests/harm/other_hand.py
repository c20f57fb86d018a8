"""Incident records written by "another hand": a generator independent of ``vigil.harm.simulate``.

It shares no code, name lists or random stream with the simulator (Python's ``random.Random``,
not numpy; its own names, including double-barrelled and doubled-letter surnames; British date
habits), so linkage quality measured on it is not quality on the data the model was tuned on.

Each person gets a home force, a date of birth, one to three victims and a handful of incidents.
The first record usually carries a police id; later records often do not, and then a share are
written the ways real records are: an initial for the forename ("S. Edwards"), "EDWARDS, Stephen",
a doubled or dropped letter, a lower-case copy, the day and month of birth transposed, the date
written 16/01/1978, a nickname, the names swapped without a comma, one digit of the date wrong.
``planted`` serial perpetrators (serious offences, later records without id and all messy, often
against the same victim) and ``namesakes`` pairs (same common name, different dates of birth) are
added on top. The truth is in the column ``truth``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from vigil.harm.model import INCIDENT_COLUMNS as HEADER  # the import file's header, nothing else

FORENAMES = (
    "Stephen", "Gareth", "Darren", "Wayne", "Craig", "Lee", "Jason", "Shane", "Dean", "Carl",
    "Ryan", "Liam", "Connor", "Kieran", "Jamie", "Aaron", "Nathan", "Ashley", "Gavin", "Neil",
    "Barry", "Trevor", "Colin", "Graham", "Keith", "Martin", "Philip", "Simon", "Stuart", "Ian",
    "Robert", "William", "Michael", "Thomas", "Anthony", "Daniel", "Matthew", "Christopher",
    "Andrew", "James", "Jonathan", "Samuel", "Benjamin", "Joseph", "Edward", "Richard", "Kenneth",
    "Patrick", "Declan", "Owain", "Rhys", "Dylan", "Callum", "Jordan", "Bradley", "Kyle", "Reece",
    "Tariq", "Imran", "Kamran", "Wasim", "Delroy", "Winston", "Tomasz", "Piotr", "Marius",
)  # fmt: skip
SURNAMES = (
    "Edwards", "Harrison", "Bennett", "Russell", "Mitchell", "Powell", "Jennings", "Hopkins",
    "Griffiths", "Llewellyn", "Pritchard", "Matthews", "Phillips", "Collins", "Lloyd", "Morgan",
    "Parry", "Howells", "Cartwright", "Whitfield", "Ashworth", "Hargreaves", "Blackwell",
    "Fairbanks", "Gallagher", "Donnelly", "McAllister", "O'Connell", "Kowalski", "Nowak",
    "Hussain", "Rahman", "Chaudhry", "Okafor", "Adeyemi", "Campbell", "Stewart", "Fraser",
    "Sutherland", "Kennedy", "Abbott", "Elliott", "Barrett", "Pollard", "Dennett", "Connolly",
    "Smith-Jones", "Hughes-Parry", "Bowen", "Vaughan", "Wynne", "Holloway", "Kirkpatrick",
    "Sheppard", "Tennant", "Marriott", "Woollard", "Pennington", "Buckley", "Stannard",
)  # fmt: skip
VICTIM_FORENAMES = (
    "Sian", "Rhian", "Kelly", "Gemma", "Leanne", "Stacey", "Donna", "Natalie", "Hayley", "Kirsty",
    "Amy", "Chloe", "Jade", "Megan", "Bethan", "Ffion", "Nia", "Aisha", "Fatima", "Agnieszka",
)  # fmt: skip
NICKNAMES = {
    "Robert": "Bob", "William": "Bill", "Michael": "Mick", "Thomas": "Tom", "Anthony": "Tony",
    "Daniel": "Danny", "Matthew": "Matt", "Christopher": "Chris", "Andrew": "Andy", "James": "Jim",
    "Jonathan": "Jon", "Samuel": "Sam", "Benjamin": "Ben", "Joseph": "Joe", "Edward": "Ted",
    "Richard": "Rick", "Kenneth": "Ken", "Patrick": "Paddy", "Stephen": "Steve",
}  # fmt: skip
FORCES = ("DYF", "GWE", "SWP", "NWP", "CHE", "MER")
OFFENCES = (
    ("Violence without injury", "Common assault", 50),
    ("Stalking and harassment", "Harassment", 20),
    ("Violence with injury", "Assault occasioning actual bodily harm", 15),
    ("Criminal damage", "Criminal damage to a dwelling", 10),
    ("Public order", "Threatening behaviour", 5),
)
SERIOUS = (
    ("Rape", "Rape of a female aged 16 and over"),
    ("Violence with injury", "Wounding with intent"),
)
MESSY_KINDS = (
    "initial",
    "surname_first",
    "doubled_letter",
    "lower_case",
    "transposed",
    "british_date",
    "nickname",
    "swapped",
    "date_typo",
)


@dataclass(frozen=True)
class Spec:
    persons: int = 3_000
    planted: int = 10
    namesakes: int = 20
    id_on_first: float = 0.7
    id_later: float = 0.35
    messy: float = 0.4
    start: date = date(2022, 1, 1)
    end: date = date(2024, 12, 31)
    seed: int = 1978


@dataclass(frozen=True)
class _Person:
    truth: str
    forename: str
    surname: str
    dob: date
    police_id: str
    force: str
    victims: tuple[tuple[str, str, date], ...]


def _doubled_or_dropped(rng: random.Random, name: str) -> str:
    doubled = [i for i in range(1, len(name)) if name[i] == name[i - 1]]
    if doubled and rng.random() < 0.6:
        i = rng.choice(doubled)
        return name[:i] + name[i + 1 :]  # a doubled letter dropped: Bennett -> Benett
    i = rng.randrange(1, len(name))
    if name[i].isalpha():
        return name[:i] + name[i] + name[i:]  # a letter doubled: Edwards -> Eddwards
    return name


def write_name(rng: random.Random, p: _Person, kind: str | None) -> tuple[str, str]:
    """(name as written, date of birth as written) in one of the messy kinds, or clean."""
    forename, surname, dob = p.forename, p.surname, p.dob
    iso = dob.isoformat()
    if kind == "initial":
        return f"{forename[0]}. {surname}", iso
    if kind == "surname_first":
        return f"{surname.upper()}, {forename}", iso
    if kind == "doubled_letter":
        return f"{forename} {_doubled_or_dropped(rng, surname)}", iso
    if kind == "lower_case":
        return f"{forename} {surname}".lower(), iso
    if kind == "transposed" and dob.day <= 12 and dob.day != dob.month:
        return f"{forename} {surname}", date(dob.year, dob.day, dob.month).isoformat()
    if kind == "british_date":
        return f"{forename} {surname}", dob.strftime("%d/%m/%Y")
    if kind == "nickname" and forename in NICKNAMES:
        return f"{NICKNAMES[forename]} {surname}", iso
    if kind == "swapped":
        return f"{surname} {forename}", iso
    if kind == "date_typo":
        year = dob.year + rng.choice((-1, 1))
        return f"{forename} {surname}", date(year, dob.month, min(dob.day, 28)).isoformat()
    return f"{forename} {surname}", iso


def _person(rng: random.Random, n: int, name: tuple[str, str] | None = None) -> _Person:
    forename, surname = name or (rng.choice(FORENAMES), rng.choice(SURNAMES))
    dob = date(1955, 1, 1) + timedelta(days=rng.randrange(0, 50 * 365))
    victims = tuple(
        (
            rng.choice(VICTIM_FORENAMES),
            rng.choice(SURNAMES),
            date(1960, 1, 1) + timedelta(days=rng.randrange(0, 45 * 365)),
        )
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))
    )
    return _Person(
        truth=f"P{n:06d}",
        forename=forename,
        surname=surname,
        dob=dob,
        police_id=f"{rng.randrange(80, 100)}/{rng.randrange(10**6, 10**7)}{chr(65 + n % 26)}",
        force=rng.choice(FORCES),
        victims=victims,
    )


def generate(spec: Spec = Spec()) -> pl.DataFrame:
    """Incidents with the import columns (text, as in a CSV) plus ``truth`` and ``planted``."""
    rng = random.Random(spec.seed)
    rows: list[dict[str, str]] = []
    span = (spec.end - spec.start).days
    people: list[tuple[_Person, str]] = []
    for n in range(spec.persons):
        people.append((_person(rng, n), "ordinary"))
    for n in range(spec.planted):
        people.append((_person(rng, spec.persons + n), "planted"))
    common = (("John", "Smith"), ("David", "Jones"), ("Mark", "Williams"), ("Paul", "Davies"))
    for n in range(spec.namesakes):
        name = common[n % len(common)]
        people.append((_person(rng, spec.persons + spec.planted + n, name), "namesake"))
    for p, role in people:
        if role == "planted":
            count = rng.choice((4, 5, 6))
        else:
            count = min(1 + int(rng.expovariate(0.8)), 8)
        kinds = list(MESSY_KINDS)
        rng.shuffle(kinds)
        days = sorted(rng.randrange(0, span) for _ in range(count))
        for k, day in enumerate(days):
            if role == "planted":
                # First record with his police id; every later one without, each in a messy way.
                kind = None if k == 0 else kinds[(k - 1) % len(kinds)]
                has_id = k == 0
                group, offence = rng.choice(SERIOUS) if k % 2 else ("Violence with injury", "ABH")
                victim = p.victims[0] if rng.random() < 0.7 else rng.choice(p.victims)
            else:
                has_id = rng.random() < (spec.id_on_first if k == 0 else spec.id_later)
                kind = rng.choice(MESSY_KINDS) if not has_id and rng.random() < spec.messy else None
                group, offence, _ = rng.choices(OFFENCES, weights=[o[2] for o in OFFENCES])[0]
                victim = rng.choice(p.victims)
            name, dob = write_name(rng, p, kind)
            when = datetime(spec.start.year, spec.start.month, spec.start.day) + timedelta(
                days=day, seconds=rng.randrange(0, 86_400)
            )
            force = p.force if rng.random() < 0.9 else rng.choice(FORCES)
            rows.append(
                {
                    "incident_ref": f"OH-{spec.seed}-{len(rows):07d}",
                    "occurred_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "force": force,
                    "offence": offence,
                    "offence_group": group,
                    "domestic_abuse": "true",
                    "stalking": "true" if group == "Stalking and harassment" else "false",
                    "sexual": "true" if group == "Rape" else "false",
                    "suspect_id": p.police_id if has_id else "",
                    "suspect_name": name,
                    "suspect_dob": dob,
                    "victim_id": "",
                    "victim_name": f"{victim[0]} {victim[1]}",
                    "victim_dob": victim[2].isoformat(),
                    "injury": "true" if group == "Violence with injury" else "false",
                    "weapon": "false",
                    "truth": p.truth,
                    "planted": "true" if role == "planted" else "false",
                }
            )
    return pl.DataFrame(rows)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """The import file (truth columns dropped)."""
    return frame.select(HEADER).write_csv().encode()
