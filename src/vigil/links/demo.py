"""Demo data that joins the services up: two tagged wearers known to the prison register and the
matrix (one has tried to phone his victim from prison), and a barred prisoner due out in three
weeks, in the caseload with no order yet, for the release-planning page.

Everything goes in through the parts' own use cases; idempotent (nothing is added once a link
exists). The crossing watch then raises the tagged wearer's refused calls and matrix entries as
alerts to his officer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from vigil.contact import bars, casework, checks, intake, prisoner_history, register
from vigil.contact.bar_request import parse_bar
from vigil.contact.index import EnforcementIndex
from vigil.contact.request_parsing import parse_request
from vigil.harm.demo import DEMO_ANALYST
from vigil.harm.incident_import import import_incidents
from vigil.harm.runs import as_of_start, compute_run
from vigil.host import DemoHost
from vigil.links import service
from vigil.links.tables import person_links
from vigil.people import service as people
from vigil.people.model import PersonDraft, RiskLevel
from vigil.people.service import PersonView
from vigil.security.model import SYSTEM, Principal, Role

HANDLER = Principal(id=0, name="demo", role=Role.UPCS_CASE_HANDLER, is_machine=True)
PHONES = Principal(id=0, name="demo prison phones", role=Role.PRISON_SYSTEM, is_machine=True)
VICTIM_PHONE = "07700 900777"
RELEASED_SOON_NUMBER = "R4321KL"


@dataclass(frozen=True)
class _Seeded:
    wearers: list[PersonView]
    released_soon: int


def seed(container: DemoHost) -> int:
    """Returns how many links were made (0 when the demo was joined up before)."""
    with container.uow() as uow:
        if uow.connection.execute(select(func.count()).select_from(person_links)).scalar_one():
            return 0
        persons = sorted(people.list_persons(uow, SYSTEM), key=lambda p: p.id)
    if not persons:
        return 0
    seeded = _Seeded(persons[:2], _add_released_soon(container, persons[0]))
    _register(container, seeded)
    _bar_and_call(container, seeded.wearers[0], barred_address=None)
    _bar_and_call(container, None, barred_address=("12 Tower Bridge Road", "SE1 2DL"))
    _incidents(container, seeded.wearers)
    with container.uow() as uow:
        report = service.find_person_links(uow, SYSTEM)
        uow.commit()
    return report.confirmed + report.proposed


def _add_released_soon(container: DemoHost, colleague: PersonView) -> int:
    with container.uow() as uow:
        draft = PersonDraft(
            first_name="Darren",
            last_name="Walsh",
            date_of_birth=date(1984, 6, 12),
            managing_team_id=colleague.managing_team_id,
            force_area=colleague.force_area,
            risk_level=RiskLevel.HIGH,
            prison_number=RELEASED_SOON_NUMBER,
        )
        person_id = people.create_person(uow, SYSTEM, draft)
        uow.commit()
    return person_id


def _register(container: DemoHost, seeded: _Seeded) -> None:
    """The wearers' old register entries (released), and Darren Walsh, out in three weeks."""
    soon = container.clock.now().date() + timedelta(weeks=3)
    lines = ["prison_number,forenames,surname,aliases,date_of_birth,establishment,release_date"]
    for person in seeded.wearers:
        lines.append(
            f"{person.prison_number},{person.first_name},{person.last_name},,"
            f"{person.date_of_birth.isoformat()},HMP Birmingham,"
        )
    lines.append(f"{RELEASED_SOON_NUMBER},Darren,Walsh,,1984-06-12,HMP Hewell,{soon.isoformat()}")
    with container.uow() as uow:
        register.import_prisoners(uow, "\n".join(lines) + "\n", actor="demo")
        uow.commit()


def _bar_and_call(
    container: DemoHost, wearer: PersonView | None, barred_address: tuple[str, str] | None
) -> None:
    """A contact case barring the victim's number (and address) for one prisoner; then two calls
    to her from prison, refused at dial time."""
    prison_number = wearer.prison_number if wearer else RELEASED_SOON_NUMBER
    assert prison_number is not None
    today = container.clock.now().date()
    addresses = (
        [{"lines": [barred_address[0], "London"], "postcode": barred_address[1]}]
        if barred_address
        else []
    )
    request = parse_request(
        {
            "requester": {"type": "victim", "name": "A victim", "email": "victim@example.org"},
            "consent": "yes",
            "protected_people": [
                {"name": "A victim", "phones": [VICTIM_PHONE], "addresses": addresses, "emails": []}
            ],
            "prisoner": {"name": "As registered", "prison_number": prison_number, "prison": ""},
            "contact": {"kinds": ["calls"], "details": "Calls from prison."},
        },
        today=today,
    )
    bar_body = {
        "scope": "prisoner",
        "prison_number": prison_number,
        "numbers": [VICTIM_PHONE],
        "addresses": addresses,
        "reason": "The victim asked that he stop calling her",
    }
    with container.uow() as uow:
        reference = intake.submit_request(uow, container.cipher, request, channel="form")
        case_id = casework.find_case(uow, HANDLER, reference)
        prisoner = prisoner_history.register_entry(uow, prison_number)
        assert prisoner is not None  # _register put him there
        register.match_prisoner(uow, container.cipher, HANDLER, case_id, prisoner.id)
        bars.bar(uow, container.cipher, HANDLER, case_id, parse_bar(bar_body, today=today))
        uow.commit()
    if wearer is not None:
        index = EnforcementIndex(container.cipher.blind_index)
        for _ in range(2):
            checks.call_check(
                container.uow, index, PHONES, prison_number, VICTIM_PHONE, container.cipher
            )


def _incidents(container: DemoHost, wearers: list[PersonView]) -> None:
    """Police incidents naming the wearers (by their police ids), then a new matrix run."""
    today = container.clock.now().date()
    header = (
        "incident_ref,occurred_at,force,offence,offence_group,domestic_abuse,stalking,sexual,"
        "suspect_id,suspect_name,suspect_dob,victim_id,victim_name,victim_dob,injury,weapon"
    )
    rows = [header]
    for n, person in enumerate(wearers):
        for k, days in enumerate((200, 90, 20)):
            when = (today - timedelta(days=days + n)).isoformat()
            rows.append(
                f"DEMO-LINK-{n}-{k},{when}T21:30:00Z,{person.force_area or 'WMP'},"
                "Assault occasioning actual bodily harm,Violence with injury,true,false,false,"
                f"{person.pnc_id},{person.full_name},{person.date_of_birth.isoformat()},"
                f",Victim {n},1990-01-0{n + 1},true,false"
            )
    with container.uow() as uow:
        import_incidents(
            uow,
            container.cipher,
            ("\n".join(rows) + "\n").encode(),
            filename="demo-linked-incidents.csv",
            principal=DEMO_ANALYST,
        )
        compute_run(uow, as_of=as_of_start(today), principal=DEMO_ANALYST)
        uow.commit()
