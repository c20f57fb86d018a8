"""Who may see crime batches and matches, and the stated reason every evidence action needs.

* Police see only their force's batches; analysts and administrators see every batch.
* Police confirm or discard the matches of wearers in their force area, so a force can finish
  its own matching; analysts and administrators review any match.
* Every upload, run, view, review and export needs a stated reason and is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, ValidationError
from vigil.evidence.crime_records import MatchRecord
from vigil.evidence.crimes import POLICE_FORCES
from vigil.security import permissions
from vigil.security.model import Principal

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


def match_scope(principal: Principal) -> Callable[[UnitOfWork, Principal, str], bool]:
    """Analysts and administrators match nationwide (a run always needs a stated reason and is
    audited); a police user's run returns only wearers in their own force area, as their trail
    queries do, so crime matching is no side door to other forces' wearers."""
    from vigil.tracking import queries

    return (
        _everyone
        if principal.may(permissions.CRIME_MATCHING_NATIONWIDE)
        else queries.registry_scope
    )


def _in_scope(uow: UnitOfWork, principal: Principal, rows: list[MatchRecord]) -> list[MatchRecord]:
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
