"""Trail queries as JSON: a person's trail, who was near a place, checking an account.

Roles: monitoring operator and administrator (everyone), probation officer (own caseload),
police (own force area). Every query needs ``reason`` and is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from vigil.tracking import near_queries, queries
from vigil.tracking.model import AccountCheck, Approach, Gap, NearFix, Sighting, StoredFix
from vigil.web.auth import ApiPrincipal, ContainerDep
from vigil.web.params import Latitude, Longitude, Metres, Seconds

router = APIRouter(prefix="/api/trail", tags=["trail"])

Reason = Annotated[
    str, Query(description="Why the trail is being looked at; written to the audit log.")
]
Start = Annotated[datetime, Query(description="ISO-8601 with Z or an offset")]
End = Annotated[datetime, Query(description="ISO-8601 with Z or an offset")]


def fix_json(fix: StoredFix) -> dict[str, Any]:
    return {
        "id": fix.id,
        "device": fix.device_id,
        "time": fix.fix_time.isoformat().replace("+00:00", "Z"),
        "received": fix.receive_time.isoformat().replace("+00:00", "Z"),
        "lat": fix.lat,
        "lon": fix.lon,
        "accuracy_m": fix.accuracy_m,
        "valid": fix.valid,
        "approximate": fix.approximate,
        "implausible": fix.implausible,
        "invalid_position": fix.invalid_position,
        "battery": fix.battery_pct,
        "alarms": list(fix.alarms),
    }


def gap_json(gap: Gap) -> dict[str, Any]:
    return {
        "start": gap.start.isoformat().replace("+00:00", "Z"),
        "end": gap.end.isoformat().replace("+00:00", "Z"),
        "seconds": gap.seconds,
    }


def sighting_json(sighting: Sighting) -> dict[str, Any]:
    return {
        "distance_m": round(sighting.distance_m, 2),
        "reach_m": round(sighting.reach_m, 2),
        "fix": fix_json(sighting.fix),
    }


def near_fix_json(near: NearFix) -> dict[str, Any]:
    return {
        "id": near.id,
        "time": near.fix_time.isoformat().replace("+00:00", "Z"),
        "lat": near.lat,
        "lon": near.lon,
        "accuracy_m": near.accuracy_m,
        "distance_m": round(near.distance_m, 2),
        "reach_m": round(near.reach_m, 2),
    }


def approach_json(approach: Approach) -> dict[str, Any]:
    return {
        "person": approach.person_id,
        "closest": sighting_json(approach.closest),
        "fixes": [near_fix_json(n) for n in approach.sightings],
    }


def account_json(check: AccountCheck) -> dict[str, Any]:
    return {
        "person": check.person_id,
        "within": check.within,
        "closest": sighting_json(check.closest) if check.closest else None,
        "fixes_within": [sighting_json(s) for s in check.sightings_within],
        "before": fix_json(check.before) if check.before else None,
        "after": fix_json(check.after) if check.after else None,
        "gaps": [gap_json(g) for g in check.gaps],
        "fixes_in_window": check.fixes_in_window,
    }


@router.get("/near")
def near(
    principal: ApiPrincipal,
    c: ContainerDep,
    lat: Latitude,
    lon: Longitude,
    start: Start,
    end: End,
    reason: Reason,
    radius_m: Metres = 200.0,
    max_accuracy_m: Metres = queries.DEFAULT_MAX_ACCURACY_M,
) -> dict[str, Any]:
    with c.uow() as uow:
        found = near_queries.who_was_near(
            uow, principal, lat, lon, radius_m, start, end, reason, max_accuracy_m=max_accuracy_m
        )
        uow.commit()  # the audited search
    return {"radius_m": radius_m, "persons": [approach_json(a) for a in found]}


@router.get("/unknown-devices")
def unknown_devices(principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        found = queries.unknown_devices(uow, principal)
        uow.commit()  # the audited view
    return {
        "devices": [
            {
                "device": d.device_id,
                "fixes": d.fixes,
                "first": d.first_fix_time.isoformat().replace("+00:00", "Z"),
                "last": d.last_fix_time.isoformat().replace("+00:00", "Z"),
            }
            for d in found
        ]
    }


@router.get("/persons/{person_id}")
def person_trail(
    person_id: str,
    principal: ApiPrincipal,
    c: ContainerDep,
    start: Start,
    end: End,
    reason: Reason,
    gap_s: Seconds = queries.DEFAULT_GAP.total_seconds(),
) -> dict[str, Any]:
    with c.uow() as uow:
        found = queries.trail(
            uow, principal, person_id, start, end, reason, gap=timedelta(seconds=gap_s)
        )
        uow.commit()  # the audited view
    return {
        "person": found.person_id,
        "start": found.start.isoformat().replace("+00:00", "Z"),
        "end": found.end.isoformat().replace("+00:00", "Z"),
        "fixes": [fix_json(f) for f in found.fixes],
        "gaps": [gap_json(g) for g in found.gaps],
    }


@router.get("/persons/{person_id}/account")
def check_account(
    person_id: str,
    principal: ApiPrincipal,
    c: ContainerDep,
    lat: Latitude,
    lon: Longitude,
    at: Annotated[datetime, Query(description="ISO-8601 with Z or an offset")],
    reason: Reason,
    radius_m: Metres = 100.0,
    window_s: Seconds = 1800.0,
    max_accuracy_m: Metres = queries.DEFAULT_MAX_ACCURACY_M,
) -> dict[str, Any]:
    with c.uow() as uow:
        result = near_queries.check_account(
            uow,
            principal,
            person_id,
            lat,
            lon,
            radius_m,
            at,
            reason,
            window=timedelta(seconds=window_s),
            max_accuracy_m=max_accuracy_m,
        )
        uow.commit()  # the audited check
    return account_json(result)
