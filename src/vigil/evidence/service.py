"""Evidence use cases: crime batches and matching (with caseworker review), and their exports.

Who may do what:

* Police upload crime batches for their own force area and see only their force's batches; police
  analysts (the caseworkers) and administrators see every batch.
* The search itself runs over every wearer in the trail store, as the national matching service
  does: a tagged person from another area committing a crime here must still be found.
* Only a caseworker (analyst) or an administrator confirms or discards a match, and only
  confirmed matches ever leave the system (CSV, PDF, GeoJSON, KML, GPX exports).
* Every upload, run, view, review and export needs a stated reason and is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, select, update

from vigil.db.uow import UnitOfWork
from vigil.engine import service as engine_service
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.evidence import bng
from vigil.evidence.crimes import POLICE_FORCES, CrimeFormat, RowError, parse_crimes
from vigil.evidence.matching import (
    ALGORITHM_VERSION,
    MatchParameters,
    Scene,
    TrackIndex,
    TrackPoint,
    match_scene,
)
from vigil.evidence.pack import CONTEXT, PackInputs, SigningKey, Verification, build_evidence
from vigil.evidence.pack import FORMAT as PACK_FORMAT
from vigil.evidence.pack import sign as sign_pack
from vigil.evidence.tables import (
    crime_batches,
    crime_match_runs,
    crime_matches,
    crimes,
    evidence_packs,
    weekly_overviews,
)
from vigil.evidence.weekly import Overview, WeekFix, build_overview, week_bounds
from vigil.security import audit
from vigil.security.model import PermissionDenied, Principal, Role
from vigil.settings import Settings

CRIME_ROLES = (Role.POLICE, Role.ANALYST, Role.ADMIN)
REVIEW_ROLES = (Role.ANALYST, Role.ADMIN)
REASON_MIN, REASON_MAX = 5, 500
MAX_UPLOAD_BYTES = 5_000_000
_FORCE_NAME_BY_CODE = {code.upper(): name for name, code in POLICE_FORCES.items()}


class MatchStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISCARDED = "discarded"


def stated_reason(reason: str | None, errors: ErrorCollector | None = None) -> str:
    text = (reason or "").strip()
    ok = REASON_MIN <= len(text) <= REASON_MAX
    if errors is not None:
        errors.check(ok, "reason", f"a stated reason of {REASON_MIN} to {REASON_MAX} characters")
    elif not ok:
        raise ValidationError(
            "reason", f"a stated reason of {REASON_MIN} to {REASON_MAX} characters is required"
        )
    return text


def force_name(code: str | None) -> str | None:
    return _FORCE_NAME_BY_CODE.get((code or "").upper())


def _everyone(_uow: UnitOfWork, _principal: Principal, _person_id: str) -> bool:
    return True


# Analysts and administrators match crimes nationwide (a run always needs a stated reason and is
# audited); a police user's run returns only wearers in their own force area, as their trail
# queries do, so crime matching is no side door to other forces' wearers.
NATIONWIDE_MATCH_ROLES = frozenset({Role.ANALYST, Role.ADMIN})


def match_scope(principal: Principal) -> Callable[[UnitOfWork, Principal, str], bool]:
    from vigil.tracking import queries

    return _everyone if principal.role in NATIONWIDE_MATCH_ROLES else queries.registry_scope


def _in_scope(
    uow: UnitOfWork, principal: Principal, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Matches of wearers the caller may see (a police user viewing an analyst's run)."""
    scope = match_scope(principal)
    seen: dict[str, bool] = {}
    out = []
    for row in rows:
        person = str(row["person_id"])
        if person not in seen:
            seen[person] = scope(uow, principal, person)
        if seen[person]:
            out.append(row)
    return out


# ---------------------------------------------------------------------------------------------
# Upload


@dataclass(frozen=True)
class BatchSummary:
    id: int
    format: CrimeFormat
    rows: int
    accepted: int
    errors: list[RowError]


def upload_batch(
    uow: UnitOfWork,
    principal: Principal,
    text: str,
    *,
    filename: str,
    reason: str | None,
    fmt: CrimeFormat | None = None,
    max_window: timedelta = timedelta(hours=12),
) -> BatchSummary:
    """Store the good rows of a crime batch and a per-row error list for the bad ones."""
    principal.require_role(*CRIME_ROLES)
    errors = ErrorCollector()
    stated = stated_reason(reason, errors)
    errors.check(0 < len(text.encode()) <= MAX_UPLOAD_BYTES, "file", "must be 1 byte to 5 MB")
    errors.check(0 < len(filename) <= 200, "filename", "must be 1 to 200 characters")
    own_force = force_name(principal.force_area) if principal.role is Role.POLICE else None
    if principal.role is Role.POLICE and own_force is None:
        errors.add("force_area", "your account has no known force area; ask an administrator")
    errors.raise_if_any()
    parsed = parse_crimes(text, fmt=fmt, max_window=max_window)
    accepted = []
    row_errors = list(parsed.errors)
    for crime in parsed.crimes:
        # Police may only submit their own force's crimes; a stray row is that row's error.
        if own_force is not None and crime.force is not None and crime.force != own_force:
            row_errors.append(
                RowError(
                    crime.row, "policeForce", f"is not your force ({own_force})", crime.reference
                )
            )
            continue
        accepted.append(crime)
    row_errors.sort(key=lambda e: e.row)
    batch_ref = next((c.batch_id for c in accepted if c.batch_id), None)
    force = own_force or next((c.force for c in accepted if c.force), None)
    now = uow.clock.now()
    batch_id = uow.connection.execute(
        insert(crime_batches)
        .values(
            force=force,
            source_batch_id=batch_ref,
            filename=filename,
            format=parsed.format.value,
            uploaded_at=now,
            uploaded_by=principal.actor,
            reason=stated,
            rows_total=parsed.rows,
            rows_accepted=len(accepted),
            errors=json.dumps([e.as_dict() for e in row_errors]),
        )
        .returning(crime_batches.c.id)
    ).scalar_one()
    if accepted:
        uow.connection.execute(
            insert(crimes),
            [
                {
                    "batch_id": batch_id,
                    "row": c.row,
                    "reference": c.reference,
                    "crime_type": c.crime_type,
                    "description": c.description,
                    "lat": c.lat,
                    "lon": c.lon,
                    "easting": c.easting,
                    "northing": c.northing,
                    "window_from": c.window_from,
                    "window_to": c.window_to,
                }
                for c in accepted
            ],
        )
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="crime_batch.upload",
        subject_type="crime_batch",
        subject_id=batch_id,
        detail={
            "reason": stated,
            "rows": parsed.rows,
            "accepted": len(accepted),
            "rejected_rows": len({e.row for e in row_errors}),
        },
    )
    uow.commit()
    return BatchSummary(int(batch_id), parsed.format, parsed.rows, len(accepted), row_errors)


def _batch_row(uow: UnitOfWork, principal: Principal, batch_id: int) -> Any:
    principal.require_role(*CRIME_ROLES)
    row = uow.connection.execute(
        select(crime_batches).where(crime_batches.c.id == batch_id)
    ).first()
    if row is None:
        raise NotFound(f"crime batch {batch_id}")
    if principal.role is Role.POLICE and row.force != force_name(principal.force_area):
        raise NotFound(f"crime batch {batch_id}")
    return row


def list_batches(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    principal.require_role(*CRIME_ROLES)
    query = select(crime_batches).order_by(crime_batches.c.id.desc()).limit(200)
    if principal.role is Role.POLICE:
        query = query.where(crime_batches.c.force == force_name(principal.force_area))
    return [_batch_json(row) for row in uow.connection.execute(query)]


def _batch_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "force": row.force,
        "source_batch_id": row.source_batch_id,
        "filename": row.filename,
        "format": row.format,
        "uploaded_at": row.uploaded_at.isoformat(),
        "uploaded_by": row.uploaded_by,
        "rows_total": row.rows_total,
        "rows_accepted": row.rows_accepted,
        "errors": json.loads(row.errors),
    }


def get_batch(uow: UnitOfWork, principal: Principal, batch_id: int) -> dict[str, Any]:
    row = _batch_row(uow, principal, batch_id)
    out = _batch_json(row)
    runs = uow.connection.execute(
        select(crime_match_runs)
        .where(crime_match_runs.c.batch_id == batch_id)
        .order_by(crime_match_runs.c.id)
    )
    out["runs"] = [_run_json(r) for r in runs]
    return out


def _run_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "batch_id": row.batch_id,
        "algorithm_version": row.algorithm_version,
        "parameters": json.loads(row.parameters),
        "transformation": row.transformation,
        "run_at": row.run_at.isoformat(),
        "run_by": row.run_by,
        "reason": row.reason,
        "matches": row.matches,
    }


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
    from vigil.tracking import queries

    errors = ErrorCollector()
    stated = stated_reason(reason, errors)
    errors.raise_if_any()
    params.validate()
    _batch_row(uow, principal, batch_id)
    scenes = uow.connection.execute(
        select(crimes).where(crimes.c.batch_id == batch_id).order_by(crimes.c.row)
    ).all()
    now = uow.clock.now()
    run_id = uow.connection.execute(
        insert(crime_match_runs)
        .values(
            batch_id=batch_id,
            algorithm_version=ALGORITHM_VERSION,
            parameters=json.dumps(params.as_dict(), sort_keys=True),
            transformation=bng.transformation_description()[:200],
            run_at=now,
            run_by=principal.actor,
            reason=stated,
            matches=0,
        )
        .returning(crime_match_runs.c.id)
    ).scalar_one()
    # The store's search takes "reach" as distance minus accuracy (no accuracy counts as 0);
    # asking for radius + worst accuracy returns a superset, and the pure matcher decides.
    reach = params.radius_m + params.max_accuracy_m
    total = 0
    persons: set[str] = set()
    for crime in scenes:
        approaches = queries.near_unaudited(
            uow,
            principal,
            crime.lat,
            crime.lon,
            reach,
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
        found = match_scene(scene, TrackIndex(points), params)
        if found:
            uow.connection.execute(
                insert(crime_matches),
                [
                    {
                        "run_id": run_id,
                        "crime_id": crime.id,
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
    uow.commit()
    return int(run_id)


def _run_row(uow: UnitOfWork, principal: Principal, run_id: int) -> Any:
    run = uow.connection.execute(
        select(crime_match_runs).where(crime_match_runs.c.id == run_id)
    ).first()
    if run is None:
        raise NotFound(f"matching run {run_id}")
    _batch_row(uow, principal, run.batch_id)
    return run


def run_info(uow: UnitOfWork, principal: Principal, run_id: int) -> dict[str, Any]:
    """A run's parameters and counts, without its matches (not a read of anyone's trail)."""
    return _run_json(_run_row(uow, principal, run_id))


def _match_rows(
    uow: UnitOfWork, run_id: int, status: MatchStatus | None = None
) -> list[dict[str, Any]]:
    query = (
        select(crime_matches, crimes)
        .join(crimes, crimes.c.id == crime_matches.c.crime_id)
        .where(crime_matches.c.run_id == run_id)
        .order_by(crimes.c.row, crime_matches.c.confidence.desc(), crime_matches.c.id)
    )
    if status is not None:
        query = query.where(crime_matches.c.status == status.value)
    out = []
    for row in uow.connection.execute(query).mappings():
        out.append(
            {
                "id": row[crime_matches.c.id],
                "crime_id": row[crimes.c.id],
                "crime_reference": row["reference"],
                "crime_type": row["crime_type"],
                "window_from_utc": row["window_from"],
                "window_to_utc": row["window_to"],
                "crime_lat": row["lat"],
                "crime_lon": row["lon"],
                "person_id": row["person_id"],
                "closest_distance_m": round(row["closest_distance_m"], 1),
                "closest_time_utc": row["closest_time"],
                "closest_fix_id": row["closest_fix_id"],
                "fixes": json.loads(row["fixes"]),
                "fixes_within": len(json.loads(row["fixes"])),
                "confidence": round(row["confidence"], 3),
                "label": row["label"],
                "status": row["status"],
                "reviewed_by": row["reviewed_by"],
                "review_note": row["review_note"],
            }
        )
    return out


def get_run(
    uow: UnitOfWork, principal: Principal, run_id: int, reason: str | None
) -> dict[str, Any]:
    """A run with every match (what a caseworker reviews). Viewing is audited."""
    stated = stated_reason(reason)
    run = _run_row(uow, principal, run_id)
    out = _run_json(run)
    out["results"] = _in_scope(uow, principal, _match_rows(uow, run_id))
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="crime_match.view",
        subject_type="crime_match_run",
        subject_id=run_id,
        detail={"reason": stated, "matches": len(out["results"])},
    )
    uow.commit()
    return out


def review_match(
    uow: UnitOfWork,
    principal: Principal,
    match_id: int,
    decision: str,
    note: str | None,
) -> dict[str, Any]:
    """A caseworker confirms or discards one match; the note says why (required to discard)."""
    if principal.role not in REVIEW_ROLES:
        raise PermissionDenied("only a caseworker (analyst) may review crime matches")
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
    uow.commit()
    return {"id": match_id, "status": decision}


def confirmed_matches(
    uow: UnitOfWork, principal: Principal, run_id: int, reason: str | None, fmt: str
) -> list[dict[str, Any]]:
    """The confirmed matches of a run, for export; audited as data leaving the system."""
    stated = stated_reason(reason)
    _run_row(uow, principal, run_id)
    rows = _in_scope(uow, principal, _match_rows(uow, run_id, MatchStatus.CONFIRMED))
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
    uow.commit()
    return rows


def match_map_svg(match: dict[str, Any], radius_m: float) -> str:
    """A map per match: the scene and its radius, and the fixes that place the person there."""
    from vigil.evidence.maps import Circle, MapSpec, Point, render_svg

    spec = MapSpec(
        title=f"{match['crime_reference']}: {match['person_id']}",
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


def matches_pdf(run: dict[str, Any], rows: list[dict[str, Any]], generated: datetime) -> bytes:
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


# ---------------------------------------------------------------------------------------------
# Violation evidence packs

PACK_ROLES = (Role.PROBATION_OFFICER, Role.MONITORING_OPERATOR, Role.ADMIN)


def signing_key(settings: Settings) -> SigningKey:
    """The system's pack-signing key: from settings, or derived from the secret key outside
    production (so a demo's packs verify across restarts)."""
    if settings.evidence_signing_key.strip():
        return SigningKey.from_setting(settings.evidence_signing_key.strip())
    if settings.is_relaxed:
        return SigningKey.derived(
            settings.secret_key or "vigil-development-only",
            f"Vigil {settings.environment.value} system key",
        )
    raise ValidationError(
        "evidence_signing_key", "is not configured: set VIGIL_EVIDENCE_SIGNING_KEY to sign packs"
    )


def trusted_keys(settings: Settings) -> dict[str, str]:
    key = signing_key(settings)
    return {key.key_id: key.signer}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _find_violation(
    uow: UnitOfWork, principal: Principal, person_id: str, violation_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The episode and its alerts: the engine's own record (``get_violation``), or for an
    episode the engine did not store (e.g. raised before it kept violations) the alert raised
    for it, which carries the engine's detail and the fix ids it cited."""
    from vigil.alerts import service as alerts_service
    from vigil.alerts.service import AlertFilter

    listed = alerts_service.list_alerts(
        uow, principal, AlertFilter(person_id=person_id, limit=1000)
    )
    mine = [a for a in listed if a["episode_id"] == violation_id]
    alerts_full = [alerts_service.get_alert(uow, principal, int(a["id"])) for a in mine]
    record = engine_service.get_violation(uow, violation_id)
    if record is None and alerts_full:
        a = alerts_full[0]
        record = {
            "id": violation_id,
            "person_id": a["person_id"],
            "condition_id": a["condition_id"],
            "kind": a["kind"],
            "start": a["started_at"],
            "end": a["ended_at"],
            "raised_at": a["raised_at"],
            "retrospective": a["retrospective"],
            "lat": a["lat"],
            "lon": a["lon"],
            # The alert keeps what the engine said when it raised the episode in its history.
            "detail": a.get("detail") or _first_history_detail(a),
            "source": "alert",
        }
    if record is None or str(record.get("person_id")) != person_id:
        raise NotFound(f"violation {violation_id}")
    return {k: _iso(v) if isinstance(v, datetime) else v for k, v in record.items()}, alerts_full


def _first_history_detail(alert: dict[str, Any]) -> dict[str, Any]:
    for entry in alert.get("history", []):
        detail = entry.get("detail")
        if isinstance(detail, dict) and detail:
            return dict(detail)
    return {}


def _condition_as_imposed(
    uow: UnitOfWork, person_id: str, condition_id: str | None, at: datetime, timezone: str
) -> dict[str, Any] | None:
    if condition_id is None:
        return None
    from vigil.orders.service import monitoring_plan

    plan = monitoring_plan(uow, at, timezone=timezone)
    for person in plan["persons"]:
        if person["id"] == person_id:
            for condition in person["conditions"]:
                if condition["id"] == str(condition_id):
                    return {**condition, "in_force_at": at.isoformat()}
    return None


def _fix_json(fix: Any, raw: tuple[str, dict[str, Any]] | None) -> dict[str, Any]:
    return {
        "id": fix.id,
        "device_id": fix.device_id,
        "fix_time": fix.fix_time.isoformat(),
        "receive_time": fix.receive_time.isoformat(),
        "lat": fix.lat,
        "lon": fix.lon,
        "accuracy_m": fix.accuracy_m,
        "valid": fix.valid,
        "approximate": fix.approximate,
        "implausible": fix.implausible,
        "invalid_position": fix.invalid_position,
        "protocol": fix.protocol,
        "battery_pct": fix.battery_pct,
        "alarms": list(fix.alarms),
        "raw": raw[0] if raw else "",
        "attributes": raw[1] if raw else {},
    }


@dataclass(frozen=True)
class PackResult:
    id: int
    document: bytes
    sha256: str


def create_pack(
    uow: UnitOfWork,
    principal: Principal,
    settings: Settings,
    *,
    person_id: str,
    violation_id: str,
    reason: str | None,
) -> PackResult:
    """Assemble, sign and store the evidence pack of one violation; put its fixes on legal hold."""
    from vigil import __version__
    from vigil.tracking import queries, store

    principal.require_role(*PACK_ROLES)
    stated = stated_reason(reason)
    if not queries.registry_scope(uow, principal, person_id):
        raise NotFound(f"person {person_id}")
    key = signing_key(settings)
    violation, alert_records = _find_violation(uow, principal, person_id, violation_id)
    start = datetime.fromisoformat(str(violation["start"]))
    end = datetime.fromisoformat(str(violation["end"])) if violation.get("end") else None
    condition = _condition_as_imposed(
        uow, person_id, violation.get("condition_id"), start, settings.timezone
    )
    found = store.person_fixes(uow.connection, person_id, start - CONTEXT, (end or start) + CONTEXT)
    cited = {int(i) for i in (violation.get("detail") or {}).get("fix_ids", [])}
    extra = store.fixes_by_id(uow.connection, cited - {f.id for f in found})
    all_fixes = sorted([*found, *extra.values()], key=lambda f: (f.fix_time, f.id))
    raws = store.raw_messages(uow.connection, [f.id for f in all_fixes])
    now = uow.clock.now()
    pack_id = uow.connection.execute(
        insert(evidence_packs)
        .values(
            violation_id=violation_id,
            person_id=person_id,
            created_at=now,
            created_by=principal.actor,
            reason=stated,
            sha256="",
            key_id=key.key_id,
            signer=key.signer,
            document="",
        )
        .returning(evidence_packs.c.id)
    ).scalar_one()
    reference = f"evidence-pack:{pack_id}"
    evidence = build_evidence(
        PackInputs(
            pack_reference=reference,
            created_at=now,
            created_by=principal.actor,
            reason=stated,
            violation=violation,
            condition=condition,
            fixes=[_fix_json(f, raws.get(f.id)) for f in all_fixes],
            alerts=alert_records,
            software={"vigil": __version__, "pack_format": PACK_FORMAT},
        )
    )
    document = sign_pack(evidence, key, now)
    digest = json.loads(document)["sha256"]
    uow.connection.execute(
        update(evidence_packs)
        .where(evidence_packs.c.id == pack_id)
        .values(sha256=digest, document=document.decode("utf-8"))
    )
    if all_fixes:
        store.place_legal_hold(uow, [f.id for f in all_fixes], reference, principal.actor)
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="evidence_pack.create",
        subject_type="person",
        subject_id=person_id,
        detail={
            "reason": stated,
            "pack_id": pack_id,
            "violation_id": violation_id,
            "sha256": digest,
            "fixes": len(all_fixes),
            "key_id": key.key_id,
        },
    )
    uow.commit()
    return PackResult(int(pack_id), document, digest)


def _read_stored(
    uow: UnitOfWork,
    principal: Principal,
    table: Table,
    row_id: int,
    reason: str | None,
    *,
    noun: str,
    action: str,
    id_key: str,
) -> Any:
    """One stored document row of a wearer the principal may see, its reading audited and
    committed; out of scope answers as missing so the document's existence is not leaked."""
    from vigil.tracking import queries

    stated = stated_reason(reason)
    row = uow.connection.execute(select(table).where(table.c.id == row_id)).first()
    if row is None or not queries.registry_scope(uow, principal, row.person_id):
        raise NotFound(f"{noun} {row_id}")
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action=action,
        subject_type="person",
        subject_id=row.person_id,
        detail={"reason": stated, id_key: row_id},
    )
    uow.commit()
    return row


def get_pack(
    uow: UnitOfWork, principal: Principal, pack_id: int, reason: str | None
) -> tuple[dict[str, Any], bytes]:
    """A stored pack (row summary, signed document). Every read is audited."""
    principal.require_role(*PACK_ROLES)
    row = _read_stored(
        uow,
        principal,
        evidence_packs,
        pack_id,
        reason,
        noun="evidence pack",
        action="evidence_pack.view",
        id_key="pack_id",
    )
    summary = {
        "id": row.id,
        "violation_id": row.violation_id,
        "person_id": row.person_id,
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
        "sha256": row.sha256,
        "key_id": row.key_id,
        "signer": row.signer,
    }
    return summary, row.document.encode("utf-8")


def list_packs(uow: UnitOfWork, principal: Principal, person_id: str) -> list[dict[str, Any]]:
    from vigil.tracking import queries

    principal.require_role(*PACK_ROLES)
    if not queries.registry_scope(uow, principal, person_id):
        raise NotFound(f"person {person_id}")
    rows = uow.connection.execute(
        select(
            evidence_packs.c.id,
            evidence_packs.c.violation_id,
            evidence_packs.c.created_at,
            evidence_packs.c.created_by,
            evidence_packs.c.sha256,
        )
        .where(evidence_packs.c.person_id == person_id)
        .order_by(evidence_packs.c.id.desc())
    )
    return [
        {
            "id": r.id,
            "violation_id": r.violation_id,
            "created_at": r.created_at.isoformat(),
            "created_by": r.created_by,
            "sha256": r.sha256,
        }
        for r in rows
    ]


def pack_pdf(document: bytes, verification: Verification) -> bytes:
    """The pack for people: maps before/during/after, tables, and the hash and signature; the
    signed JSON travels inside the PDF as an attachment so the two never part."""
    from weasyprint import HTML, Attachment  # type: ignore[import-untyped]

    from vigil.evidence.render import TEMPLATES, render_template

    envelope = json.loads(document)
    evidence = envelope["evidence"]
    maps = {period: pack_map_svg(evidence, period) for period in ("before", "during", "after")}
    html = render_template(
        "evidence/pack.html",
        e=evidence,
        envelope=envelope,
        maps=maps,
        verification=verification,
    )
    attachment = Attachment(
        string=document.decode("utf-8"),
        name=f"{evidence['pack']['reference'].replace(':', '-')}.json",
        description="Signed evidence pack (canonical JSON)",
    )
    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(attachments=[attachment])
    return pdf


def pack_map_svg(evidence: dict[str, Any], period: str) -> str:
    from vigil.evidence.maps import MapSpec, Point, render_svg, zone_shapes

    condition = evidence.get("condition_as_imposed") or {}
    circles, polygons = zone_shapes(condition, str(condition.get("label") or ""))
    fixes = [f for f in evidence["fixes"] if f["period"] == period and f.get("lat") is not None]
    spec = MapSpec(
        title=f"{period} the violation",
        circles=circles,
        polygons=polygons,
        trail=[(f["lat"], f["lon"]) for f in fixes],
        points=[
            Point(
                f["lat"],
                f["lon"],
                f["fix_time"][11:16],
                f.get("accuracy_m"),
                "highlight" if period == "during" else "fix",
            )
            for f in fixes[:300]
        ],
        width=300,
        height=240,
    )
    return render_svg(spec)


# ---------------------------------------------------------------------------------------------
# Weekly overview

WEEKLY_ROLES = (Role.PROBATION_OFFICER, Role.MONITORING_OPERATOR, Role.ADMIN)


@dataclass(frozen=True)
class WeeklyResult:
    id: int
    html: str
    pdf: bytes
    sha256: str
    overview: Overview | None = None


def render_weekly(overview: Overview, generated: datetime) -> tuple[str, bytes]:
    from vigil.evidence.render import render_pdf, render_template

    html = render_template("evidence/weekly.html", o=overview, generated=generated)
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
    commit: bool = True,
) -> WeeklyResult:
    """Build, render (HTML and PDF) and store one wearer's weekly overview; audited.

    ``commit=False`` leaves the transaction open so a caller (the Monday scheduler) can enqueue
    the officer's email in it: the overview and its delivery are stored together or not at all.
    """
    import hashlib

    from vigil.alerts import service as alerts_service
    from vigil.alerts.service import AlertFilter
    from vigil.orders.service import monitoring_plan
    from vigil.tracking import queries, store

    principal.require_role(*WEEKLY_ROLES)
    errors = ErrorCollector()
    stated = stated_reason(reason, errors)
    errors.check(week_start.weekday() == 0, "week_start", "must be a Monday")
    errors.raise_if_any()
    if not queries.registry_scope(uow, principal, person_id):
        raise NotFound(f"person {person_id}")
    tz = ZoneInfo(settings.timezone)
    start, end = week_bounds(week_start, tz)
    now = uow.clock.now()
    plan = monitoring_plan(uow, min(end - timedelta(seconds=1), now), timezone=settings.timezone)
    conditions: list[dict[str, Any]] = next(
        (p["conditions"] for p in plan["persons"] if p["id"] == person_id), []
    )
    stored = store.person_fixes(uow.connection, person_id, start, end)
    fixes = [
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
        for f in stored
        if f.lat is not None and f.lon is not None
    ]
    person_alerts = alerts_service.list_alerts(
        uow, principal, AlertFilter(person_id=person_id, limit=1000)
    )
    overview = build_overview(
        person_id, week_start, fixes, conditions, person_alerts, settings.timezone
    )
    html, pdf = render_weekly(overview, now)
    digest = hashlib.sha256(pdf).hexdigest()
    weekly_id = uow.connection.execute(
        insert(weekly_overviews)
        .values(
            person_id=person_id,
            week_start=week_start.isoformat(),
            trigger=trigger,
            generated_at=now,
            generated_by=principal.actor,
            html=html,
            pdf=pdf,
            sha256=digest,
        )
        .returning(weekly_overviews.c.id)
    ).scalar_one()
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
            "fixes": len(fixes),
            "weekly_id": weekly_id,
        },
    )
    if commit:
        uow.commit()
    return WeeklyResult(int(weekly_id), html, pdf, digest, overview)


def get_weekly(
    uow: UnitOfWork, principal: Principal, weekly_id: int, reason: str | None
) -> tuple[dict[str, Any], WeeklyResult]:
    """A stored weekly overview (summary, HTML and PDF). Every read is audited."""
    principal.require_role(*WEEKLY_ROLES)
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


def _weekly_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "person_id": row.person_id,
        "week_start": row.week_start,
        "trigger": row.trigger,
        "generated_at": row.generated_at.isoformat(),
        "generated_by": row.generated_by,
        "sha256": row.sha256,
    }


def list_weekly(uow: UnitOfWork, principal: Principal, person_id: str) -> list[dict[str, Any]]:
    """The stored overviews of one wearer, newest first (no content, so not a trail read)."""
    from vigil.tracking import queries

    principal.require_role(*WEEKLY_ROLES)
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
