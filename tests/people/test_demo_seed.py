"""The demo seed: a Midlands pilot, the same every time, seeded once."""

from __future__ import annotations

from sqlalchemy import func, select

from vigil.bootstrap import Container
from vigil.orders.plan_for_engine import monitoring_plan_json
from vigil.people import service as people
from vigil.people.tables import persons
from vigil.security import sign_in
from vigil.sim.demo import DEMO_PASSWORD, seed_demo


def test_demo_seed_is_idempotent_and_the_officer_has_a_caseload(container: Container) -> None:
    logins = seed_demo(container)
    assert seed_demo(container) == logins
    usernames = {username for username, _, _ in logins}
    assert {"officer", "operator", "admin", "police.wmp", "officer.leicester"} <= usernames
    with container.uow() as uow:
        # Forty wearers, and a prisoner of Birmingham's due out with contact bars (links' demo).
        assert uow.connection.execute(select(func.count()).select_from(persons)).scalar() == 41
        session = sign_in.log_in(uow, "officer", DEMO_PASSWORD, "test")
        assert session is not None
        caseload = people.list_persons(uow, session.principal)
        assert len(caseload) == 11
        assert {p.team_name for p in caseload} == {"Birmingham North"}
        police = sign_in.log_in(uow, "police.wmp", DEMO_PASSWORD, "test")
        assert police is not None
        assert {p.team_name for p in people.list_persons(uow, police.principal)} == {
            "Birmingham North",
            "Coventry",
        }
        plan = monitoring_plan_json(uow, container.clock.now())
        uow.commit()
    assert len(plan["persons"]) == 40
    kinds = {c["type"] for p in plan["persons"] for c in p["conditions"]}
    assert kinds == {"curfew", "exclusion_zone", "trail", "proximity"}
    assert all(p["devices"] for p in plan["persons"])
