"""Crime matching: search the trail store for wearers near uploaded crimes, caseworker review of
the matches, and the exports of confirmed matches.

The search runs over every wearer in the trail store, as the national matching service does: a
tagged person from another area committing a crime here must still be found. Only confirmed
matches ever leave the system (CSV, PDF, GeoJSON, KML, GPX exports).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound
from vigil.evidence.crime_access import (
    MatchStatus,
    _in_scope,
    match_scope,
    stated_reason,
)
from vigil.evidence.crime_records import (
    MatchRecord,
    Reviewed,
    RunDetail,
    RunParameters,
    RunRecord,
)
from vigil.evidence.crime_upload import _batch_row, _run_json
from vigil.evidence.crimes import crime_type_name
from vigil.evidence.match_confidence import MatchWindow, read_confidence
from vigil.evidence.matching import (
    ALGORITHM_VERSION,
    MatchParameters,
    PersonMatch,
    Scene,
    TrackIndex,
    TrackPoint,
    match_scene,
)
from vigil.evidence.tables import (
    crime_match_runs,
    crime_matches,
    crimes,
)
from vigil.geo import bng
from vigil.people import service as people
from vigil.security import audit, permissions
from vigil.security.model import Principal
from vigil.tracking import near_queries

# ---------------------------------------------------------------------------------------------
# Matching


def run_matching(
    uow: UnitOfWork,
    principal: Principal,
    batch_id: int,
    params: MatchParameters,
    reason: str | None,
) -> int:
    """Match every crime of a batch against the trail store; returns the run id."""

    errors = ErrorCollector()
    stated = stated_reason(reason, errors)
    errors.raise_if_any()
    params.validate()
    _batch_row(uow, principal, batch_id)
    scenes = uow.connection.execute(
        select(crimes).where(crimes.c.batch_id == batch_id).order_by(crimes.c.row)
    ).all()
    now = uow.clock.now()
    run_id = _new_run(uow, principal, batch_id, params, stated)
    total = 0
    persons: set[str] = set()
    for crime in scenes:
        found = _matches_at(uow, principal, crime, params)
        _store_matches(uow, run_id, crime.id, found)
        total += len(found)
        persons.update(m.person_id for m in found)
    uow.connection.execute(
        update(crime_match_runs).where(crime_match_runs.c.id == run_id).values(matches=total)
    )
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="crime_match.run",
        subject_type="crime_batch",
        subject_id=batch_id,
        detail={
            "reason": stated,
            "run_id": run_id,
            "algorithm_version": ALGORITHM_VERSION,
            "parameters": params.as_dict(),
            "crimes": len(scenes),
            "matches": total,
            "persons": sorted(persons),
        },
    )
    return run_id


def _new_run(
    uow: UnitOfWork, principal: Principal, batch_id: int, params: MatchParameters, stated: str
) -> int:
    run_id = uow.connection.execute(
        insert(crime_match_runs)
        .values(
            batch_id=batch_id,
            algorithm_version=ALGORITHM_VERSION,
            parameters=json.dumps(params.as_dict(), sort_keys=True),
            transformation=bng.transformation_description()[:200],
            run_at=uow.clock.now(),
            run_by=principal.actor,
            reason=stated,
            matches=0,
        )
        .returning(crime_match_runs.c.id)
    ).scalar_one()
    return int(run_id)


def _matches_at(
    uow: UnitOfWork, principal: Principal, crime: Any, params: MatchParameters
) -> list[PersonMatch]:
    """The wearers in the principal's scope placed at one crime scene."""
    # The store's search takes "reach" as distance minus accuracy (no accuracy counts as 0);
    # asking for radius + worst accuracy returns a superset, and the pure matcher decides.
    approaches = near_queries.near_unaudited(
        uow,
        principal,
        crime.lat,
        crime.lon,
        params.radius_m + params.max_accuracy_m,
        crime.window_from - params.padding_before,
        crime.window_to + params.padding_after,
        params.max_accuracy_m,
        match_scope(principal),
    )
    points = [
        TrackPoint(s.id, a.person_id, s.fix_time, float(s.lat), float(s.lon), s.accuracy_m)
        for a in approaches
        for s in a.sightings
    ]
    scene = Scene(crime.reference, crime.lat, crime.lon, crime.window_from, crime.window_to)
    return match_scene(scene, TrackIndex(points), params)


def _store_matches(uow: UnitOfWork, run_id: int, crime_id: int, found: list[PersonMatch]) -> None:
    if not found:
        return
    uow.connection.execute(
        insert(crime_matches),
        [
            {
                "run_id": run_id,
                "crime_id": crime_id,
                "person_id": m.person_id,
                "closest_distance_m": m.closest_distance_m,
                "closest_time": m.closest_time,
                "closest_fix_id": m.closest_fix_id,
                "confidence": m.confidence,
                "label": m.label.value,
                "fixes": json.dumps([f.as_dict() for f in m.fixes]),
                "status": MatchStatus.PENDING.value,
            }
            for m in found
        ],
    )


def _run_row(uow: UnitOfWork, principal: Principal, run_id: int) -> Any:
    run = uow.connection.execute(
        select(crime_match_runs).where(crime_match_runs.c.id == run_id)
    ).first()
    if run is None:
        raise NotFound(f"matching run {run_id}")
    _batch_row(uow, principal, run.batch_id)
    return run


def run_info(uow: UnitOfWork, principal: Principal, run_id: int) -> RunRecord:
    """A run's parameters and counts, without its matches (not a read of anyone's trail)."""
    return _run_json(_run_row(uow, principal, run_id))


def _match_rows(uow: UnitOfWork, run: Any, status: MatchStatus | None = None) -> list[MatchRecord]:
    query = (
        select(crime_matches, crimes)
        .join(crimes, crimes.c.id == crime_matches.c.crime_id)
        .where(crime_matches.c.run_id == run.id)
        .order_by(crimes.c.row, crime_matches.c.confidence.desc(), crime_matches.c.id)
    )
    if status is not None:
        query = query.where(crime_matches.c.status == status.value)
    parameters = json.loads(run.parameters)
    return [_match_json(row, parameters) for row in uow.connection.execute(query).mappings()]


def _match_json(row: Any, parameters: RunParameters) -> MatchRecord:
    """One match as pages, the API and exports read it: the crime type by name and the
    confidence with its reasons in words, beside the stored figures."""
    fixes = json.loads(row["fixes"])
    reading = read_confidence(
        MatchWindow(
            fixes=fixes, window_from_utc=row["window_from"], window_to_utc=row["window_to"]
        ),
        parameters,
    )
    return {
        "id": row[crime_matches.c.id],
        "crime_id": row[crimes.c.id],
        "crime_reference": row["reference"],
        "crime_type": crime_type_name(row["crime_type"]),
        "crime_type_code": row["crime_type"],
        "window_from_utc": row["window_from"],
        "window_to_utc": row["window_to"],
        "crime_lat": row["lat"],
        "crime_lon": row["lon"],
        "person_id": row["person_id"],
        "closest_distance_m": round(row["closest_distance_m"], 1),
        "closest_time_utc": row["closest_time"],
        "closest_fix_id": row["closest_fix_id"],
        "fixes": fixes,
        "fixes_within": len(fixes),
        "confidence": round(row["confidence"], 3),
        "label": row["label"],
        "status": row["status"],
        "reviewed_by": row["reviewed_by"],
        "review_note": row["review_note"],
        "confidence_reasons": " ".join(reading.reasons),
        "confidence_meaning": reading.meaning,
        "deciding_fix_time_utc": reading.fix_time,
    }


def _named(uow: UnitOfWork, rows: list[MatchRecord]) -> list[MatchRecord]:
    """Each match's wearer by name and CRN, as reviewers and courts know him; a fix stored for
    an id the registry does not hold (an imported trail) keeps that id."""
    ids = {int(r["person_id"]) for r in rows if str(r["person_id"]).isdigit()}
    found = people.persons_by_ids(uow, sorted(ids))
    for row in rows:
        pid = str(row["person_id"])
        person = found.get(int(pid)) if pid.isdigit() else None
        row["person_name"] = person.full_name if person else f"wearer {pid} (not in the registry)"
        row["person_crn"] = person.crn if person else None
    return rows


def get_run(uow: UnitOfWork, principal: Principal, run_id: int, reason: str | None) -> RunDetail:
    """A run with every match (what a caseworker reviews). Viewing is audited."""
    stated = stated_reason(reason)
    run = _run_row(uow, principal, run_id)
    out = RunDetail(
        **_run_json(run), results=_named(uow, _in_scope(uow, principal, _match_rows(uow, run)))
    )
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="crime_match.view",
        subject_type="crime_match_run",
        subject_id=run_id,
        detail={"reason": stated, "matches": len(out["results"])},
    )
    return out


def review_match(
    uow: UnitOfWork,
    principal: Principal,
    match_id: int,
    decision: str,
    note: str | None,
) -> Reviewed:
    """An analyst, or a police user for a wearer in their force area, confirms or discards one
    match; the note says why (required to discard)."""
    principal.require(permissions.MATCH_REVIEW)
    errors = ErrorCollector()
    allowed = {MatchStatus.CONFIRMED.value, MatchStatus.DISCARDED.value}
    errors.check(decision in allowed, "decision", "must be confirmed or discarded")
    text = (note or "").strip()
    errors.check(len(text) <= 500, "note", "must be at most 500 characters")
    errors.check(
        decision != MatchStatus.DISCARDED.value or len(text) >= 5,
        "note",
        "say why the match is discarded (at least 5 characters)",
    )
    errors.raise_if_any()
    row = uow.connection.execute(
        select(crime_matches).where(crime_matches.c.id == match_id)
    ).first()
    if row is None:
        raise NotFound(f"match {match_id}")
    _run_row(uow, principal, row.run_id)
    # Police review only their own force's wearers, as they see only those in a run.
    if not match_scope(principal)(uow, principal, row.person_id):
        raise NotFound(f"match {match_id}")
    now = uow.clock.now()
    uow.connection.execute(
        update(crime_matches)
        .where(crime_matches.c.id == match_id)
        .values(
            status=decision, reviewed_by=principal.actor, reviewed_at=now, review_note=text or None
        )
    )
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="crime_match.review",
        subject_type="crime_match",
        subject_id=match_id,
        detail={"decision": decision, "from": row.status, "person_id": row.person_id},
    )
    return {"id": match_id, "status": decision}


def confirmed_matches(
    uow: UnitOfWork, principal: Principal, run_id: int, reason: str | None, fmt: str
) -> list[MatchRecord]:
    """The confirmed matches of a run, for export; audited as data leaving the system."""
    stated = stated_reason(reason)
    run = _run_row(uow, principal, run_id)
    rows = _named(uow, _in_scope(uow, principal, _match_rows(uow, run, MatchStatus.CONFIRMED)))
    pending = uow.connection.execute(
        select(func.count())
        .select_from(crime_matches)
        .where(
            crime_matches.c.run_id == run_id, crime_matches.c.status == MatchStatus.PENDING.value
        )
    ).scalar_one()
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="crime_match.export",
        subject_type="crime_match_run",
        subject_id=run_id,
        detail={"reason": stated, "format": fmt, "matches": len(rows), "unreviewed": pending},
    )
    return rows


def match_map_svg(match: MatchRecord, radius_m: float) -> str:
    """A map per match: the scene and its radius, and the fixes that place the person there."""
    from vigil.evidence.maps import Circle, MapSpec, Point, render_svg

    spec = MapSpec(
        title=f"{match['crime_reference']}: {match.get('person_name', match['person_id'])}",
        circles=[
            Circle(
                match["crime_lat"], match["crime_lon"], radius_m, match["crime_reference"], "scene"
            )
        ],
        points=[
            Point(
                f["lat"],
                f["lon"],
                f["time"][11:16],
                f.get("accuracy_m"),
                "highlight" if f["fix_id"] == match["closest_fix_id"] else "fix",
            )
            for f in match["fixes"]
        ],
        trail=[(f["lat"], f["lon"]) for f in sorted(match["fixes"], key=lambda f: f["time"])],
        width=420,
        height=300,
    )
    return render_svg(spec)


def matches_pdf(run: RunRecord, rows: list[MatchRecord], generated: datetime) -> bytes:
    """The confirmed matches of a run as a PDF report, one map per match."""
    from vigil.evidence.render import render_pdf, render_template

    radius = float(run["parameters"]["radius_m"])
    html = render_template(
        "evidence/matches_report.html",
        run=run,
        rows=[{**r, "map": match_map_svg(r, radius)} for r in rows],
        generated=generated,
    )
    return render_pdf(html)
