"""Reading cases for the case handler (the list, one case in full) and the decisions short of a bar:
assigning, notes, declining and asking the requester for more information."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from vigil.contact.casefile import (
    F_BAR_REASON,
    F_DECISION,
    F_INTEL,
    F_ITEM,
    F_LIFT_REASON,
    F_NOTE,
    F_REQUEST,
    case_row,
    read_people,
    required_text,
    set_status,
    write_note,
)
from vigil.contact.model import (
    MAX_SHORT_TEXT,
    MAX_TEXT,
    BarScope,
    CaseStatus,
    ItemKind,
    ProtectedPerson,
    RequesterType,
    mask_name,
)
from vigil.contact.notifications import notify_requester
from vigil.contact.tables import (
    contact_alerts,
    contact_attempts,
    contact_bar_items,
    contact_bars,
    contact_cases,
    contact_intelligence,
    contact_notes,
)
from vigil.db.uow import UnitOfWork
from vigil.errors import NotFound
from vigil.security import audit, permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal


@dataclass(frozen=True)
class CaseSummary:
    id: int
    reference: str
    status: CaseStatus
    requester_type: RequesterType
    masked_people: tuple[str, ...]
    prison_number: str | None
    assigned_to: str | None
    submitted_at: datetime
    barred_at: datetime | None
    sla_hours: float
    open_alerts: int


@dataclass(frozen=True)
class BarView:
    id: int
    scope: BarScope
    prison_number: str | None
    reason: str
    review_date: date | None
    created_at: datetime
    created_by: str
    lifted_at: datetime | None
    lift_reason: str | None
    items: tuple[tuple[ItemKind, str], ...]


@dataclass(frozen=True)
class CaseDetail:
    summary: CaseSummary
    request: dict[str, Any]
    people: tuple[ProtectedPerson, ...]
    matched_prisoner_id: int | None
    matched_prison_number: str | None
    decision_reason: str | None
    notes: tuple[tuple[datetime, str, str, str], ...]
    bars: tuple[BarView, ...]
    attempts: tuple[tuple[datetime, str, str], ...]
    alerts: tuple[dict[str, Any], ...]
    intelligence: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def _summary(conn: Connection, cipher: FieldCipher, row: Any, now: datetime) -> CaseSummary:
    people = read_people(conn, cipher, row.id)
    alerts = conn.execute(
        select(func.count())
        .select_from(contact_alerts)
        .where(contact_alerts.c.case_id == row.id, contact_alerts.c.acknowledged_at.is_(None))
    ).scalar_one()
    end = row.barred_at or now
    return CaseSummary(
        id=row.id,
        reference=row.reference,
        status=CaseStatus(row.status),
        requester_type=RequesterType(row.requester_type),
        masked_people=tuple(mask_name(p.name) for p in people),
        prison_number=row.matched_prison_number or row.prison_number,
        assigned_to=row.assigned_to,
        submitted_at=row.submitted_at,
        barred_at=row.barred_at,
        sla_hours=round((end - row.submitted_at).total_seconds() / 3600, 1),
        open_alerts=int(alerts),
    )


def list_cases(
    uow: UnitOfWork,
    cipher: FieldCipher,
    principal: Principal,
    *,
    status: CaseStatus | None = None,
    limit: int = 200,
) -> list[CaseSummary]:
    """The queue: protected people masked to initials, oldest first."""
    principal.require(permissions.CONTACT_CASES)
    query = select(contact_cases).order_by(contact_cases.c.submitted_at).limit(limit)
    if status is not None:
        query = query.where(contact_cases.c.status == status.value)
    conn = uow.connection
    now = uow.clock.now()
    return [_summary(conn, cipher, row, now) for row in conn.execute(query)]


def find_case(uow: UnitOfWork, principal: Principal, reference: str) -> int:
    principal.require(permissions.CONTACT_CASES)
    found = uow.connection.execute(
        select(contact_cases.c.id).where(contact_cases.c.reference == reference.strip().upper())
    ).scalar()
    if found is None:
        raise NotFound(reference)
    return int(found)


def get_case(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_id: int
) -> CaseDetail:
    """The full case with protected people's details; the view is audited."""
    principal.require(permissions.CONTACT_CASES)
    conn = uow.connection
    now = uow.clock.now()
    row = case_row(conn, case_id)
    request = json.loads(cipher.decrypt(row.request_enc, F_REQUEST))
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.case.viewed",
        subject_type="contact_case",
        subject_id=case_id,
        detail={"fields": ["protected_people", "requester", "prisoner"]},
    )
    return CaseDetail(
        summary=_summary(conn, cipher, row, now),
        request=request,
        people=tuple(read_people(conn, cipher, case_id)),
        matched_prisoner_id=row.matched_prisoner_id,
        matched_prison_number=row.matched_prison_number,
        decision_reason=cipher.decrypt_optional(row.decision_reason_enc, F_DECISION),
        notes=_notes(conn, cipher, case_id),
        bars=_bars(conn, cipher, case_id),
        attempts=_attempts(conn, case_id),
        alerts=_alerts(conn, case_id),
        intelligence=_intelligence(conn, cipher, case_id),
    )


def _notes(
    conn: Connection, cipher: FieldCipher, case_id: int
) -> tuple[tuple[datetime, str, str, str], ...]:
    return tuple(
        (n.at, n.actor, n.kind, cipher.decrypt(n.text_enc, F_NOTE))
        for n in conn.execute(
            select(contact_notes)
            .where(contact_notes.c.case_id == case_id)
            .order_by(contact_notes.c.at, contact_notes.c.id)
        )
    )


def _bars(conn: Connection, cipher: FieldCipher, case_id: int) -> tuple[BarView, ...]:
    return tuple(
        _bar_view(conn, cipher, b)
        for b in conn.execute(
            select(contact_bars)
            .where(contact_bars.c.case_id == case_id)
            .order_by(contact_bars.c.id)
        )
    )


def _attempts(conn: Connection, case_id: int) -> tuple[tuple[datetime, str, str], ...]:
    return tuple(
        (a.at, a.kind, a.prison_number)
        for a in conn.execute(
            select(contact_attempts)
            .where(contact_attempts.c.case_id == case_id)
            .order_by(contact_attempts.c.at.desc())
            .limit(100)
        )
    )


def _alerts(conn: Connection, case_id: int) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "id": a.id,
            "raised_at": a.raised_at,
            "message": a.message,
            "acknowledged_at": a.acknowledged_at,
        }
        for a in conn.execute(
            select(contact_alerts)
            .where(contact_alerts.c.case_id == case_id)
            .order_by(contact_alerts.c.raised_at.desc())
        )
    )


def _intelligence(
    conn: Connection, cipher: FieldCipher, case_id: int
) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "id": i.id,
            "received_at": i.received_at,
            "kind": i.kind,
            "prison_number": i.prison_number,
            "details": cipher.decrypt(i.details_enc, F_INTEL),
        }
        for i in conn.execute(
            select(contact_intelligence).where(contact_intelligence.c.case_id == case_id)
        )
    )


def _bar_view(conn: Connection, cipher: FieldCipher, bar: Any) -> BarView:
    items = tuple(
        (ItemKind(i.kind), cipher.decrypt(i.value_enc, F_ITEM))
        for i in conn.execute(
            select(contact_bar_items.c.kind, contact_bar_items.c.value_enc)
            .where(contact_bar_items.c.bar_id == bar.id)
            .order_by(contact_bar_items.c.id)
        )
    )
    return BarView(
        id=bar.id,
        scope=BarScope(bar.scope),
        prison_number=bar.prison_number,
        reason=cipher.decrypt(bar.reason_enc, F_BAR_REASON),
        review_date=bar.review_date,
        created_at=bar.created_at,
        created_by=bar.created_by,
        lifted_at=bar.lifted_at,
        lift_reason=cipher.decrypt_optional(bar.lift_reason_enc, F_LIFT_REASON),
        items=items,
    )


def assign(uow: UnitOfWork, principal: Principal, case_id: int, assignee: str | None) -> None:
    principal.require(permissions.CONTACT_CASES)
    conn = uow.connection
    case_row(conn, case_id)
    who = (assignee or principal.name).strip()[:200]
    conn.execute(update(contact_cases).where(contact_cases.c.id == case_id).values(assigned_to=who))
    audit.record(
        conn,
        at=uow.clock.now(),
        actor=principal.actor,
        action="contact.case.assigned",
        subject_type="contact_case",
        subject_id=case_id,
        detail={"assignee": who},
    )


def add_note(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_id: int, text: str | None
) -> None:
    principal.require(permissions.CONTACT_CASES)
    body = required_text(text, "note", MAX_TEXT, "Enter a note")
    conn = uow.connection
    case_row(conn, case_id)
    now = uow.clock.now()
    write_note(conn, cipher, case_id, now, principal.name, "note", body)
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.case.note_added",
        subject_type="contact_case",
        subject_id=case_id,
    )


def decline(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_id: int, reason: str | None
) -> None:
    principal.require(permissions.CONTACT_CASES)
    text = required_text(reason, "reason", MAX_SHORT_TEXT, "Enter the reason for declining")
    conn = uow.connection
    row = case_row(conn, case_id)
    now = uow.clock.now()
    set_status(
        conn,
        case_id,
        CaseStatus.DECLINED,
        now,
        decision_reason_enc=cipher.encrypt(text, F_DECISION),
    )
    write_note(conn, cipher, case_id, now, principal.name, "decision", f"Declined: {text}")
    notify_requester(
        uow,
        cipher,
        row,
        now,
        f"We have looked at your request and cannot put a bar in place: {text}",
    )
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.case.declined",
        subject_type="contact_case",
        subject_id=case_id,
    )


def ask_for_information(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_id: int, question: str | None
) -> None:
    principal.require(permissions.CONTACT_CASES)
    text = required_text(question, "question", MAX_SHORT_TEXT, "Enter what you need to know")
    conn = uow.connection
    row = case_row(conn, case_id)
    now = uow.clock.now()
    set_status(conn, case_id, CaseStatus.AWAITING_INFORMATION, now)
    write_note(
        conn, cipher, case_id, now, principal.name, "decision", f"Asked for information: {text}"
    )
    notify_requester(uow, cipher, row, now, f"We need more information about your request: {text}")
    audit.record(
        conn,
        at=now,
        actor=principal.actor,
        action="contact.case.information_requested",
        subject_type="contact_case",
        subject_id=case_id,
    )
