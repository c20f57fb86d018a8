"""Screening a person for the pilots: the eligibility rules applied, the decision recorded
with its reasons, and the decisions listed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector
from vigil.orders import eligibility
from vigil.orders.model import (
    DA_PILOTS,
)
from vigil.orders.plan_for_engine import count_active_pilot_persons
from vigil.orders.service import _visible_person_ids
from vigil.orders.tables import eligibility_decisions
from vigil.people import reference_data
from vigil.people import service as people
from vigil.security import audit, permissions
from vigil.security.model import Principal


@dataclass(frozen=True)
class Decision:
    id: int
    person_id: int
    decided_at: datetime
    decided_by: str
    region_code: str | None
    eligible: bool
    outcomes: list[dict[str, Any]]
    proportionality_note: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person_id": self.person_id,
            "decided_at": self.decided_at.isoformat(),
            "decided_by": self.decided_by,
            "region_code": self.region_code,
            "eligible": self.eligible,
            "outcomes": self.outcomes,
            "proportionality_note": self.proportionality_note,
        }


def _decision(row: Any) -> Decision:
    return Decision(
        row.id,
        row.person_id,
        row.decided_at,
        row.decided_by,
        row.region_code,
        bool(row.eligible),
        list(row.outcomes),
        row.proportionality_note,
    )


def screen_for_pilot(
    uow: UnitOfWork,
    principal: Principal,
    *,
    person_id: int,
    domestic_abuse_sentence: bool,
    release_region_code: str | None,
    accommodation_viable: bool,
    proportionality_note: str,
    region_capacity: int,
) -> Decision:
    """Screen a person for the domestic-abuse pilot and record the decision with its reasons."""
    principal.require(permissions.ELIGIBILITY)
    person = people.get_person(uow, principal, person_id)
    region = _release_region(uow, release_region_code or person.region_code, proportionality_note)
    now = uow.clock.now()
    monitored = [pid for pid in count_active_pilot_persons(uow, now, DA_PILOTS) if pid != person_id]
    caseload = people.count_persons_in_region(uow, region, monitored) if region else 0
    facts = eligibility.Screening(
        date_of_birth=person.date_of_birth,
        risk_level=person.risk_level,
        domestic_abuse_sentence=domestic_abuse_sentence,
        release_region_code=region,
        accommodation_viable=accommodation_viable,
        region_caseload=caseload,
        region_capacity=region_capacity,
        proportionality_note=proportionality_note.strip(),
    )
    decision_id = _store_decision(uow, principal, person_id, facts, now)
    row = uow.connection.execute(
        select(eligibility_decisions).where(eligibility_decisions.c.id == decision_id)
    ).one()
    return _decision(row)


def _release_region(uow: UnitOfWork, region: str | None, proportionality_note: str) -> str | None:
    errors = ErrorCollector()
    eligibility.check_note(proportionality_note, errors)
    known = {r.code for r in reference_data.list_regions(uow)}
    if region is not None and region not in known:
        errors.add("release_region_code", f"unknown region {region!r}")
    errors.raise_if_any()
    return region


def _store_decision(
    uow: UnitOfWork,
    principal: Principal,
    person_id: int,
    facts: eligibility.Screening,
    now: datetime,
) -> int:
    """The rules' outcomes with the facts they were judged on, kept and audited."""
    outcomes = eligibility.screen(facts, now.date())
    decided = eligibility.eligible(outcomes)
    inputs = {
        "domestic_abuse_sentence": facts.domestic_abuse_sentence,
        "release_region_code": facts.release_region_code,
        "accommodation_viable": facts.accommodation_viable,
        "risk_level": facts.risk_level.value,
        "region_caseload": facts.region_caseload,
        "region_capacity": facts.region_capacity,
    }
    decision_id = uow.connection.execute(
        insert(eligibility_decisions)
        .values(
            person_id=person_id,
            decided_at=now,
            decided_by=principal.actor,
            region_code=facts.release_region_code,
            eligible=decided,
            outcomes=[o.as_dict() for o in outcomes],
            inputs=inputs,
            proportionality_note=facts.proportionality_note,
        )
        .returning(eligibility_decisions.c.id)
    ).scalar_one()
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="eligibility.decide",
        subject_type="person",
        subject_id=person_id,
        detail={
            "decision_id": decision_id,
            "eligible": decided,
            "failed": [o.rule.value for o in outcomes if not o.passed],
        },
    )
    return int(decision_id)


def list_decisions(
    uow: UnitOfWork, principal: Principal, person_id: int | None = None
) -> list[Decision]:
    ids = _visible_person_ids(uow, principal, person_id)
    if not ids:
        return []
    rows = uow.connection.execute(
        select(eligibility_decisions)
        .where(eligibility_decisions.c.person_id.in_(ids))
        .order_by(eligibility_decisions.c.id.desc())
    )
    return [_decision(row) for row in rows]
