"""Demo data for the contact service: a small prisoner register and one sample request.

Establishment names come from the prison estate register shipped in ``vigil/people/data/``
(symroe/prison-estate-data, OGL v3); the prisoners themselves are synthetic.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from sqlalchemy import func, select

from vigil.contact import intake, register
from vigil.contact.request_parsing import parse_request
from vigil.contact.tables import contact_prisoners
from vigil.host import DemoHost
from vigil.people.prison_register import BUNDLED_PRISON_REGISTER

FORENAMES = ("Jonathan", "Kevin", "Stephen", "Darren", "Lee", "Craig", "Wayne", "Paul", "Dean")
SURNAMES = ("Smyth", "Doherty", "Clarke", "Walsh", "Hughes", "Kowalski", "Okafor", "Patel", "Reid")

SAMPLE_REQUEST = {
    "requester": {
        "type": "victim_service",
        "name": "Asha Patel (Safe Haven refuge)",
        "email": "asha.patel@example.org",
        "phone": "0121 496 0000",
        "safe_contact": "Text only, weekdays after 6pm",
    },
    "consent": "yes",
    "protected_people": [
        {
            "name": "Jane Doe",
            "phones": ["07700 900123", "0121 496 0123"],
            "addresses": [
                {"lines": ["Flat 2", "14 High Street", "Birmingham"], "postcode": "B1 1AA"}
            ],
            "emails": ["jane.doe@example.com"],
        },
        {"name": "Amy Doe", "phones": ["07700 900456"], "addresses": [], "emails": []},
    ],
    "prisoner": {"name": "Jon Smith", "date_of_birth": "1985-07-03", "prison": "Birmingham"},
    "contact": {
        "kinds": ["calls", "letters", "via_another_prisoner"],
        "dates": "most nights since March",
        "details": "Calls from withheld prison numbers; a letter sent through his cellmate.",
    },
}


def _prison_names() -> list[str]:
    text = (BUNDLED_PRISON_REGISTER / "prison.tsv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text), delimiter="\t")
    return [r["name"] for r in rows if r.get("name") and not r.get("end-date")]


def register_csv(count: int = 40, seed: int = 8) -> str:
    """A synthetic register; the first row is the prisoner the sample request describes."""
    rng = random.Random(seed)
    prisons = _prison_names()
    lines = ["prison_number,forenames,surname,aliases,date_of_birth,establishment,release_date"]
    lines.append(
        "A1234BC,Jonathan,Smyth,Jon Smith;Johnny Smyth,1985-03-07,HMP Birmingham,2028-01-31"
    )
    for i in range(count - 1):
        number = (
            f"{chr(65 + i % 26)}{1000 + rng.randrange(9000)}{chr(65 + rng.randrange(26))}"
            f"{chr(65 + rng.randrange(26))}"
        )
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(15000))
        release = date(2026, 1, 1) + timedelta(days=rng.randrange(2000))
        lines.append(
            f"{number},{rng.choice(FORENAMES)},{rng.choice(SURNAMES)},,{born.isoformat()},"
            f'"{rng.choice(prisons)}",{release.isoformat()}'
        )
    return "\n".join(lines) + "\n"


def seed(container: DemoHost) -> str | None:
    """Idempotent: loads the register and one sample request only into an empty register.

    Returns the sample request's reference when it was created.
    """
    with container.uow() as uow:
        existing = uow.connection.execute(
            select(func.count()).select_from(contact_prisoners)
        ).scalar_one()
        if existing:
            return None
        register.import_prisoners(uow, register_csv(), actor="demo")
        request = parse_request(SAMPLE_REQUEST, today=container.clock.now().date())
        reference = intake.submit_request(uow, container.cipher, request, channel="form")
        uow.commit()
    return reference
