"""Who was near a place, and a wearer's account of where he was: the near-point questions
police and officers ask of the trail store, scoped and audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector
from vigil.security import audit
from vigil.security.model import Principal
from vigil.tracking import trail_reads
from vigil.tracking.model import (
    AccountCheck,
    Approach,
    NearFix,
    Sighting,
    StoredFix,
)
from vigil.tracking.queries import (
    DEFAULT_GAP,
    DEFAULT_MAX_ACCURACY_M,
    MAX_ACCOUNT_WINDOW,
    MAX_NEAR_WINDOW,
    ScopeCheck,
    _aware,
    _check_common,
    _check_place,
    _check_window,
    _closest,
    _proves_position,
    _sightings,
    _visible,
    find_gaps,
    geodesic_m,
    registry_scope,
)
from vigil.tracking.tables import from_micros


def who_was_near(
    uow: UnitOfWork,
    principal: Principal,
    lat: float,
    lon: float,
    radius_m: float,
    start: datetime,
    end: datetime,
    reason: str | None,
    *,
    max_accuracy_m: float = DEFAULT_MAX_ACCURACY_M,
    scope: ScopeCheck = registry_scope,
) -> list[Approach]:
    """Everyone (in scope) whose fixes reach within ``radius_m`` of a place between two times,
    closest first, each with their closest approach and every fix that shows it."""
    errors = ErrorCollector()
    stated = _check_common(errors, principal, reason)
    _check_window(errors, start, end, MAX_NEAR_WINDOW)
    _check_place(errors, lat, lon, radius_m, max_accuracy_m)
    errors.raise_if_any()
    approaches = near_unaudited(
        uow, principal, lat, lon, radius_m, start, end, max_accuracy_m, scope
    )
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="trail.near",
        subject_type="place",
        detail={
            "reason": stated,
            "radius_m": radius_m,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "persons": [a.person_id for a in approaches],
        },
    )
    return approaches


def near_unaudited(
    uow: UnitOfWork,
    principal: Principal,
    lat: float,
    lon: float,
    radius_m: float,
    start: datetime,
    end: datetime,
    max_accuracy_m: float = DEFAULT_MAX_ACCURACY_M,
    scope: ScopeCheck = registry_scope,
) -> list[Approach]:
    """The search behind ``who_was_near``, for callers that audit a whole batch themselves
    (crime matching). Inputs must already be validated."""
    rows = trail_reads.near_candidates(
        uow.connection, lat, lon, radius_m + max_accuracy_m, start, end, max_accuracy_m
    )
    if not rows:
        return []
    ids, persons, times, lats, lons, accuracies = zip(*rows, strict=True)
    distances = geodesic_m(lat, lon, lats, lons)
    accuracy = np.array([a or 0.0 for a in accuracies], dtype=float)
    reach = np.maximum(0.0, distances - accuracy)
    near_index = np.nonzero(reach <= radius_m)[0]
    if near_index.size == 0:
        return []
    near = near_index.tolist()
    visible = _visible_persons(uow, principal, scope, [persons[i] for i in near])
    by_person: dict[str, list[NearFix]] = {}
    for i in near:
        pid = persons[i]
        if visible[pid]:
            by_person.setdefault(pid, []).append(
                NearFix(
                    ids[i],
                    from_micros(times[i]),
                    lats[i],
                    lons[i],
                    accuracies[i],
                    float(distances[i]),
                    float(reach[i]),
                )
            )
    approaches = _approaches(uow, by_person)
    return sorted(approaches, key=lambda a: (a.closest.reach_m, a.closest.distance_m, a.person_id))


def _visible_persons(
    uow: UnitOfWork, principal: Principal, scope: ScopeCheck, persons: list[str]
) -> dict[str, bool]:
    """Whether the caller may see each person, asked once per person however many fixes."""
    return {pid: scope(uow, principal, pid) for pid in dict.fromkeys(persons)}


def _approaches(uow: UnitOfWork, by_person: dict[str, list[NearFix]]) -> list[Approach]:
    # Full rows only for each person's closest fix: reading every near fix's row costs a random
    # page read each, which dominated the query on a large table.
    closest = {
        pid: min(found, key=lambda n: (n.reach_m, n.distance_m, n.fix_time, n.id))
        for pid, found in by_person.items()
    }
    full = trail_reads.fixes_by_id(uow.connection, (n.id for n in closest.values()))
    return [
        Approach(
            pid,
            Sighting(full[closest[pid].id], closest[pid].distance_m, closest[pid].reach_m),
            tuple(sorted(found, key=lambda n: (n.fix_time, n.id))),
        )
        for pid, found in by_person.items()
    ]


def check_account(
    uow: UnitOfWork,
    principal: Principal,
    person_id: str | int,
    lat: float,
    lon: float,
    radius_m: float,
    at: datetime,
    reason: str | None,
    *,
    window: timedelta = timedelta(minutes=30),
    gap: timedelta = DEFAULT_GAP,
    max_accuracy_m: float = DEFAULT_MAX_ACCURACY_M,
    scope: ScopeCheck = registry_scope,
) -> AccountCheck:
    """Was the person within ``radius_m`` of a place at ``at`` ± ``window``? If not, how close did
    they come, and where were they (the fixes either side of ``at``)?"""
    errors = ErrorCollector()
    stated = _check_common(errors, principal, reason)
    _check_place(errors, lat, lon, radius_m, max_accuracy_m)
    if _aware(at, "at", errors):
        errors.check(
            timedelta(0) < window <= MAX_ACCOUNT_WINDOW,
            "window_s",
            f"must be over 0 and at most {int(MAX_ACCOUNT_WINDOW.total_seconds())}",
        )
    errors.raise_if_any()
    pid = str(person_id)
    _visible(uow, principal, pid, scope)
    start, end = at - window, at + window
    found = trail_reads.person_fixes(uow.connection, pid, start, end)
    proving = [f for f in found if _proves_position(f, max_accuracy_m)]
    sightings = _sightings(proving, lat, lon)
    within = tuple(s for s in sightings if s.reach_m <= radius_m)
    before, after = _either_side(found, at)
    result = AccountCheck(
        person_id=pid,
        within=bool(within),
        closest=_closest(sightings) if sightings else None,
        sightings_within=within,
        before=before,
        after=after,
        gaps=tuple(find_gaps([f.fix_time for f in found], start, end, gap)),
        fixes_in_window=len(found),
    )
    _audit_check(uow, principal, pid, stated, radius_m, at, window, result.within)
    return result


def _audit_check(
    uow: UnitOfWork,
    principal: Principal,
    pid: str,
    stated: str,
    radius_m: float,
    at: datetime,
    window: timedelta,
    within: bool,
) -> None:
    # The stated reason and the answer are kept: a check of someone's account is itself evidence.
    detail = {
        "reason": stated,
        "radius_m": radius_m,
        "at": at.isoformat(),
        "window_s": window.total_seconds(),
        "within": within,
    }
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action="trail.account_check",
        subject_type="person",
        subject_id=pid,
        detail=detail,
    )


def _either_side(
    found: Sequence[StoredFix], at: datetime
) -> tuple[StoredFix | None, StoredFix | None]:
    """The positioned fixes just before (or at) and just after the moment asked about."""
    positioned = [f for f in found if f.lat is not None and not f.invalid_position]
    before = max(
        (f for f in positioned if f.fix_time <= at), key=lambda f: (f.fix_time, f.id), default=None
    )
    after = min(
        (f for f in positioned if f.fix_time > at), key=lambda f: (f.fix_time, f.id), default=None
    )
    return before, after
