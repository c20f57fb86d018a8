"""Figures about the service for the case handler: volumes, outcomes and how long decisions take."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from vigil.contact.model import AttemptKind, percentile
from vigil.contact.tables import (
    contact_attempts,
    contact_bar_items,
    contact_bars,
    contact_cases,
)
from vigil.db.uow import UnitOfWork
from vigil.security import audit, permissions
from vigil.security.model import Principal


@dataclass(frozen=True)
class Statistics:
    requests_by_type: dict[str, int]
    requests: int
    unique_requesters: int
    median_hours_to_bar: float | None
    p90_hours_to_bar: float | None
    active_bars: int
    active_barred_items: int
    refused_calls: int
    held_letters: int
    by_status: dict[str, int]

    def rows(self) -> list[tuple[str, str]]:
        out = [("requests", str(self.requests)), ("unique requesters", str(self.unique_requesters))]
        out += [(f"requests from {k}", str(v)) for k, v in sorted(self.requests_by_type.items())]
        out += [(f"cases {k}", str(v)) for k, v in sorted(self.by_status.items())]
        out += [
            ("median hours to bar", _fmt(self.median_hours_to_bar)),
            ("90th percentile hours to bar", _fmt(self.p90_hours_to_bar)),
            ("active bars", str(self.active_bars)),
            ("active barred numbers, addresses and emails", str(self.active_barred_items)),
            ("refused calls", str(self.refused_calls)),
            ("held letters", str(self.held_letters)),
        ]
        return out


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def statistics(uow: UnitOfWork, principal: Principal) -> Statistics:
    principal.require(permissions.CONTACT_CASES)
    conn = uow.connection
    by_type: Counter[str] = Counter(
        dict(
            conn.execute(
                select(contact_cases.c.requester_type, func.count()).group_by(
                    contact_cases.c.requester_type
                )
            ).all()
        )
    )
    by_status: dict[str, int] = dict(
        conn.execute(
            select(contact_cases.c.status, func.count()).group_by(contact_cases.c.status)
        ).all()
    )
    unique = conn.execute(
        select(func.count(func.distinct(contact_cases.c.requester_index)))
    ).scalar_one()
    durations = [
        (r.barred_at - r.submitted_at).total_seconds() / 3600
        for r in conn.execute(
            select(contact_cases.c.submitted_at, contact_cases.c.barred_at).where(
                contact_cases.c.barred_at.is_not(None)
            )
        )
    ]
    active_bars = conn.execute(
        select(func.count()).select_from(contact_bars).where(contact_bars.c.lifted_at.is_(None))
    ).scalar_one()
    active_items = conn.execute(
        select(func.count())
        .select_from(contact_bar_items)
        .where(contact_bar_items.c.active.is_(True))
    ).scalar_one()
    attempts: dict[str, int] = dict(
        conn.execute(
            select(contact_attempts.c.kind, func.count()).group_by(contact_attempts.c.kind)
        ).all()
    )
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=principal.actor,
        action="contact.statistics.read",
        subject_type="contact_statistics",
    )
    return Statistics(
        requests_by_type={str(k): int(v) for k, v in by_type.items()},
        requests=sum(by_type.values()),
        unique_requesters=int(unique),
        median_hours_to_bar=percentile(durations, 0.5),
        p90_hours_to_bar=percentile(durations, 0.9),
        active_bars=int(active_bars),
        active_barred_items=int(active_items),
        refused_calls=int(attempts.get(AttemptKind.CALL.value, 0)),
        held_letters=int(attempts.get(AttemptKind.LETTER.value, 0)),
        by_status={str(k): int(v) for k, v in by_status.items()},
    )
