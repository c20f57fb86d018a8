"""Trail queries answer within the registry's caseload scope, and nowhere else."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import START
from tests.people.registry import build_registry
from tests.tracking.helpers import fix
from vigil.bootstrap import Container
from vigil.errors import NotFound
from vigil.people import service as people
from vigil.people.model import PersonDraft
from vigil.security.model import Principal, Role
from vigil.tracking import queries, store

REASON = "Checking a reported breach"


def _wearer_in_birmingham(container: Container) -> tuple[str, int, int]:
    registry = build_registry(container)
    creator = Principal(
        id=1, name="officer", role=Role.PROBATION_OFFICER, team_id=registry.birmingham
    )
    with container.uow() as uow:
        person_id = people.create_person(
            uow,
            creator,
            PersonDraft(
                first_name="Dean",
                last_name="Marsh",
                date_of_birth=date(1985, 4, 2),
                managing_team_id=registry.birmingham,
                force_area="WMP",
                risk_level="high",
                crn="B654321",
            ),
        )
        store.append(
            uow.connection,
            [fix("T1", START + timedelta(minutes=n), 52.4862, -1.8904) for n in range(3)],
            [str(person_id)] * 3,
        )
        uow.commit()
    return str(person_id), registry.birmingham, registry.nottingham


def test_the_managing_teams_officer_and_the_force_area_police_see_the_trail(
    container: Container,
) -> None:
    person_id, birmingham, _ = _wearer_in_birmingham(container)
    end = START + timedelta(hours=1)
    officer = Principal(id=2, name="officer", role=Role.PROBATION_OFFICER, team_id=birmingham)
    police = Principal(id=3, name="police.wmp", role=Role.POLICE, force_area="WMP")
    with container.uow() as uow:
        assert len(queries.trail(uow, officer, person_id, START, end, REASON).fixes) == 3
        assert len(queries.trail(uow, police, person_id, START, end, REASON).fixes) == 3


def test_another_teams_officer_and_another_forces_police_get_not_found(
    container: Container,
) -> None:
    person_id, _, nottingham = _wearer_in_birmingham(container)
    end = START + timedelta(hours=1)
    others = [
        Principal(id=4, name="notts", role=Role.PROBATION_OFFICER, team_id=nottingham),
        Principal(id=5, name="police.notts", role=Role.POLICE, force_area="NOT"),
    ]
    for principal in others:
        with container.uow() as uow, pytest.raises(NotFound):
            queries.trail(uow, principal, person_id, START, end, REASON)
