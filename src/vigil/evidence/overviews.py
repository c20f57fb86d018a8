"""Weekly overviews: generate, store and read back a wearer's signed weekly overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from vigil.alerts import alert_reads
from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound
from vigil.evidence.crime_access import stated_reason
from vigil.evidence.packs import _read_stored
from vigil.evidence.tables import (
    weekly_overviews,
)
from vigil.evidence.wearer import wearer_of
from vigil.evidence.weekly import Overview, WeekFix, build_overview, week_bounds
from vigil.security import audit, permissions
from vigil.security.model import Principal
from vigil.settings import Settings
from vigil.tracking import trail_reads

# ---------------------------------------------------------------------------------------------
# Weekly overview


@dataclass(frozen=True)
class WeeklyResult:
    id: int
    html: str
    pdf: bytes
    sha256: str
    overview: Overview | None = None


def render_weekly(overview: Overview, generated: datetime) -> tuple[str, bytes]:
    from vigil.evidence import pack_words
    from vigil.evidence.render import render_pdf, render_template

    html = render_template(
        "evidence/weekly.html", o=overview, generated=generated, words=pack_words
    )
    return html, render_pdf(html)


def generate_weekly(
    uow: UnitOfWork,
    principal: Principal,
    settings: Settings,
    *,
    person_id: str,
    week_start: date,
    reason: str | None,
    trigger: str = "on_demand",
) -> WeeklyResult:
    """Build, render (HTML and PDF) and store one wearer's weekly overview; audited. The caller
    commits: the Monday scheduler enqueues the officer's email in the same transaction, so the
    overview and its delivery are stored together or not at all."""
    import hashlib

    from vigil.tracking import queries

    principal.require(permissions.WEEKLY_OVERVIEW)
    errors = ErrorCollector()
    stated = stated_reason(reason, errors)
    errors.check(week_start.weekday() == 0, "week_start", "must be a Monday")
    errors.raise_if_any()
    if not queries.registry_scope(uow, principal, person_id):
        raise NotFound(f"person {person_id}")
    now = uow.clock.now()
    overview = _overview(uow, principal, settings, person_id, week_start)
    html, pdf = render_weekly(overview, now)
    digest = hashlib.sha256(pdf).hexdigest()
    stored = _Stored(trigger, now, html, pdf, digest)
    weekly_id = _store(uow, principal, person_id, week_start, stored)
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="weekly_overview.generate",
        subject_type="person",
        subject_id=person_id,
        detail={
            "reason": stated,
            "week_start": week_start.isoformat(),
            "trigger": trigger,
            "fixes": overview.fixes,
            "weekly_id": weekly_id,
        },
    )
    return WeeklyResult(weekly_id, html, pdf, digest, overview)


def _overview(
    uow: UnitOfWork, principal: Principal, settings: Settings, person_id: str, week_start: date
) -> Overview:
    """The week (up to now, for a week not yet over) from the conditions in force at its end,
    the stored fixes and the wearer's alerts."""
    from vigil.alerts.alert_reads import AlertFilter
    from vigil.orders.plan_for_engine import monitoring_plan_json

    start, end = week_bounds(week_start, ZoneInfo(settings.timezone))
    now = uow.clock.now()
    plan = monitoring_plan_json(
        uow, min(end - timedelta(seconds=1), now), timezone=settings.timezone
    )
    conditions: list[dict[str, Any]] = next(
        (p["conditions"] for p in plan["persons"] if p["id"] == person_id), []
    )
    person_alerts = alert_reads.list_alerts(
        uow, principal, AlertFilter(person_id=person_id, limit=1000)
    )
    return build_overview(
        person_id,
        week_start,
        _week_fixes(uow, person_id, start, end),
        conditions,
        person_alerts,
        settings.timezone,
        now=now,
        wearer=wearer_of(uow, person_id).named,
    )


def _week_fixes(uow: UnitOfWork, person_id: str, start: datetime, end: datetime) -> list[WeekFix]:
    """The week's stored fixes with a position; one is usable as evidence only when valid,
    plausible and with a real position."""
    return [
        WeekFix(
            f.id,
            f.fix_time,
            float(f.lat),
            float(f.lon),
            f.accuracy_m,
            f.battery_pct,
            f.alarms,
            f.valid and not f.implausible and not f.invalid_position,
        )
        for f in trail_reads.person_fixes(uow.connection, person_id, start, end)
        if f.lat is not None and f.lon is not None
    ]


@dataclass(frozen=True)
class _Stored:
    """An overview as rendered: what started it, when (the time the document shows), its
    documents and the PDF's digest."""

    trigger: str
    generated_at: datetime
    html: str
    pdf: bytes
    sha256: str


def _store(
    uow: UnitOfWork, principal: Principal, person_id: str, week_start: date, stored: _Stored
) -> int:
    weekly_id = uow.connection.execute(
        insert(weekly_overviews)
        .values(
            person_id=person_id,
            week_start=week_start.isoformat(),
            trigger=stored.trigger,
            generated_at=stored.generated_at,
            generated_by=principal.actor,
            html=stored.html,
            pdf=stored.pdf,
            sha256=stored.sha256,
        )
        .returning(weekly_overviews.c.id)
    ).scalar_one()
    return int(weekly_id)


def get_weekly(
    uow: UnitOfWork, principal: Principal, weekly_id: int, reason: str | None
) -> tuple[WeeklyRecord, WeeklyResult]:
    """A stored weekly overview (summary, HTML and PDF). Every read is audited."""
    principal.require(permissions.WEEKLY_OVERVIEW)
    row = _read_stored(
        uow,
        principal,
        weekly_overviews,
        weekly_id,
        reason,
        noun="weekly overview",
        action="weekly_overview.view",
        id_key="weekly_id",
    )
    return _weekly_json(row), WeeklyResult(int(row.id), row.html, bytes(row.pdf), row.sha256)


class WeeklyRecord(TypedDict):
    """A stored overview as the wearer's evidence page and the API list it (no content)."""

    id: int
    person_id: str
    week_start: str
    trigger: str
    generated_at: str
    generated_by: str
    sha256: str


def _weekly_json(row: Any) -> WeeklyRecord:
    return {
        "id": row.id,
        "person_id": row.person_id,
        "week_start": row.week_start,
        "trigger": row.trigger,
        "generated_at": row.generated_at.isoformat(),
        "generated_by": row.generated_by,
        "sha256": row.sha256,
    }


def list_weekly(uow: UnitOfWork, principal: Principal, person_id: str) -> list[WeeklyRecord]:
    """The stored overviews of one wearer, newest first (no content, so not a trail read)."""
    from vigil.tracking import queries

    principal.require(permissions.WEEKLY_OVERVIEW)
    if not queries.registry_scope(uow, principal, person_id):
        raise NotFound(f"person {person_id}")
    rows = uow.connection.execute(
        select(
            weekly_overviews.c.id,
            weekly_overviews.c.person_id,
            weekly_overviews.c.week_start,
            weekly_overviews.c.trigger,
            weekly_overviews.c.generated_at,
            weekly_overviews.c.generated_by,
            weekly_overviews.c.sha256,
        )
        .where(weekly_overviews.c.person_id == person_id)
        .order_by(weekly_overviews.c.id.desc())
        .limit(100)
    )
    return [_weekly_json(r) for r in rows]
