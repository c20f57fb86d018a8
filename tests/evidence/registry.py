"""A small real registry for evidence tests: teams, officers, wearers with orders, through the
registry's and the orders part's own services (no direct table writes)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from vigil.bootstrap import Container
from vigil.orders import service as orders
from vigil.orders.model import OrderDraft, Pilot
from vigil.people import reference_data
from vigil.people import service as people
from vigil.people.model import PersonDraft, RiskLevel
from vigil.security import service as security_service
from vigil.security.model import Principal, Role

ACTOR = Principal(id=0, name="test-setup", role=Role.ADMIN, is_machine=True)
HOME = (52.4800, -1.9000)
VICTIM = (52.4900, -1.8800)
_SERIAL = itertools.count(100001)


def add_team(container: Container, name: str = "Birmingham North", region: str = "WM") -> int:
    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
        team_id = reference_data.add_team(
            uow, name=name, region_code=region, force_area="WMP", actor="test"
        )
        uow.commit()
    return team_id


def add_officer(container: Container, team_id: int, name: str, email: str | None) -> int:
    with container.uow() as uow:
        officer_id = reference_data.add_officer(
            uow, name=name, team_id=team_id, email=email, actor="test"
        )
        uow.commit()
    return officer_id


def add_user(container: Container, username: str, role: Role, password: str, **extra: Any) -> int:
    with container.uow() as uow:
        user_id = security_service.add_user(
            uow,
            username=username,
            password=password,
            role=role,
            display_name=username,
            actor="test",
            **extra,
        )
        uow.commit()
    return user_id


def add_wearer(
    container: Container,
    team_id: int,
    officer_id: int | None,
    *,
    starts_at: datetime,
    days: int = 180,
    pilot: Pilot = Pilot.DA_LICENCE,
    last_name: str = "Walsh",
    force_area: str = "WMP",
) -> int:
    """A wearer with an order: curfew at HOME 19:00–07:00 and an exclusion zone at VICTIM."""
    with container.uow() as uow:
        person_id = people.create_person(
            uow,
            ACTOR,
            PersonDraft(
                first_name="Lee",
                last_name=last_name,
                date_of_birth=datetime(1985, 3, 4).date(),
                managing_team_id=team_id,
                force_area=force_area,
                risk_level=RiskLevel.HIGH,
                crn=f"X{next(_SERIAL):06d}",
            ),
        )
        orders.create_order(
            uow,
            ACTOR,
            OrderDraft(
                person_id=person_id,
                pilot=pilot,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(days=days),
                responsible_officer_id=officer_id,
                conditions=[
                    {
                        "type": "curfew",
                        "geometry": {"type": "Point", "coordinates": [HOME[1], HOME[0]]},
                        "radius_m": 60,
                        "timetable": [
                            {
                                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                "start": "19:00",
                                "end": "07:00",
                            }
                        ],
                        "grace_s": 300,
                        "address": "Home",
                    },
                    {
                        "type": "exclusion_zone",
                        "label": "Protected person's home",
                        "geometry": {"type": "Point", "coordinates": [VICTIM[1], VICTIM[0]]},
                        "radius_m": 300,
                        "buffer_m": 200,
                    },
                ],
            ),
        )
        uow.commit()
    return person_id
