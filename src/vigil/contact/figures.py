"""Figures about the service for the case handler: volumes, outcomes and how long decisions take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, func, select

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
    by_type = _counts_by(conn, contact_cases.c.requester_type)
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
    attempts = _counts_by(conn, contact_attempts.c.kind)
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=principal.actor,
        action="contact.statistics.read",
        subject_type="contact_statistics",
    )
    return Statistics(
        requests_by_type=by_type,
        requests=sum(by_type.values()),
        unique_requesters=int(unique),
        median_hours_to_bar=percentile(durations, 0.5),
        p90_hours_to_bar=percentile(durations, 0.9),
        active_bars=_count(conn, contact_bars, contact_bars.c.lifted_at.is_(None)),
        active_barred_items=_count(conn, contact_bar_items, contact_bar_items.c.active.is_(True)),
        refused_calls=attempts.get(AttemptKind.CALL.value, 0),
        held_letters=attempts.get(AttemptKind.LETTER.value, 0),
        by_status=_counts_by(conn, contact_cases.c.status),
    )


def _counts_by(conn: Connection, column: ColumnElement[Any]) -> dict[str, int]:
    rows = conn.execute(select(column, func.count()).group_by(column)).all()
    return {str(value): int(count) for value, count in rows}


def _count(conn: Connection, table: Table, where: ColumnElement[bool]) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(where)).scalar_one())
