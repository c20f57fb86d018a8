"""The weekly overview's email to the responsible officer: who gets it, and what it says (a
summary and where to read the overview; never an address or a victim's detail)."""

from __future__ import annotations

from datetime import date

from vigil.db.uow import UnitOfWork
from vigil.evidence import overviews
from vigil.evidence.wearer import Wearer
from vigil.people import reference_data


def recipient(uow: UnitOfWork, officer_id: int | None) -> tuple[str | None, str]:

    if officer_id is None:
        return None, "the order in force names no responsible officer"
    officer = reference_data.get_officer(uow, officer_id)
    if officer is None:
        return None, f"responsible officer {officer_id} is not in the registry"
    if not (officer.email or "").strip():
        return None, f"responsible officer {officer_id} has no email address"
    return officer.email, officer.name


def subject(wearer: Wearer, week: date) -> str:
    """The subject line names the case by CRN, not by name: subjects show in notifications."""
    case = f"CRN {wearer.crn}" if wearer.crn else f"person {wearer.id}"
    return f"Weekly overview: {case}, week of {week.isoformat()}"


def email_body(
    wearer: Wearer, week: date, weekly_id: int, sha256: str, summary: str, officer: str
) -> dict[str, str]:
    """Plain text: a summary and where to read the overview. The overview itself stays inside
    Vigil (opening it is an audited read); the email carries no address or victim detail."""
    return {
        "text": (
            f"Dear {officer},\n\n"
            f"The weekly movement overview for {wearer.named}, week beginning Monday "
            f"{week.strftime('%d %B %Y')}, is ready.\n\n{summary}\n\n"
            f"Read it (HTML or PDF) in Vigil: /evidence/weekly/{weekly_id}\n"
            f"PDF SHA-256: {sha256}\n"
        ),
        "weekly_id": str(weekly_id),
        "person_id": wearer.id,
        "week_start": week.isoformat(),
    }


def summary(result: overviews.WeeklyResult) -> str:
    overview = result.overview
    if overview is None:
        return ""
    curfew = [d.curfew for d in overview.days if d.curfew]
    kept = sum(1 for c in curfew if c == "kept")
    broken = sum(1 for c in curfew if c == "broken")
    distance = sum(d.distance_m for d in overview.days) / 1000
    return (
        f"Fixes: {overview.fixes}. Curfews kept {kept}, broken {broken}, no data "
        f"{len(curfew) - kept - broken}. Distance travelled {distance:.1f} km. "
        f"Violations and alerts: {len(overview.alerts)}."
    )
