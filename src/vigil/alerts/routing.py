"""Who is told about an alert, and through which channel.

The alerts part needs a handful of facts from the registry (people, officers and teams, force
areas, protected persons). ``Directory`` names exactly those lookups; ``RegistryDirectory`` (in
``vigil.alerts.registry``) implements it through the registry's service functions, and tests may
pass their own. Routing itself is pure: facts in, recipients out.

Where the wearer is, for the police control room: ``Directory.force_area_at(lat, lon)`` when the
event carries a position and the directory can place it; otherwise the person's own force area.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from vigil.alerts.model import (
    APPROACH_PATTERN_KIND,
    CONTACT_ATTEMPT_KIND,
    MATRIX_RISE_KIND,
    ZONE_KINDS,
    Severity,
    Tier,
    WorkingHours,
)
from vigil.db.uow import UnitOfWork


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class CaseInfo:
    person_id: str
    risk_level: str | None
    managing_team_id: int | None
    force_area: str | None
    responsible_officer: Contact | None
    duty_officer: Contact | None
    crn: str | None = None


@dataclass(frozen=True)
class ControlRoom:
    force_area: str
    webhook_url: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ProtectedRef:
    """A protected person as routing sees them: an id and whether they opted in to be told.
    Their details stay in the registry; channels ask for a phone number only when sending."""

    id: str
    notify_opt_in: bool


class Directory(Protocol):
    def case(self, uow: UnitOfWork, person_id: str) -> CaseInfo | None:
        """Risk level, managing team, force area, responsible officer and the team's duty
        officer of the monitored person; None for an unknown person."""

    def force_area_at(self, uow: UnitOfWork, lat: float, lon: float) -> str | None:
        """The police force area containing a point, when the directory can tell."""

    def control_room(self, uow: UnitOfWork, force_area: str) -> ControlRoom | None:
        """How to reach the force area's police control room."""

    def protected_persons(
        self, uow: UnitOfWork, person_id: str, condition_id: str | None
    ) -> list[ProtectedRef]:
        """Protected persons a condition of this person protects (all of them for None)."""

    def protected_person_phone(
        self, uow: UnitOfWork, protected_person_id: str, actor: str
    ) -> str | None:
        """Decrypted phone number for a notification; the registry audits the read."""

    def safety_context(
        self, uow: UnitOfWork, protected_person_id: str, actor: str
    ) -> dict[str, str]:
        """What the police need to keep the protected person safe; the registry audits the
        read. Only ever sent to police control rooms."""


@dataclass(frozen=True)
class Recipient:
    tier: Tier
    channel: str
    address: str

    @property
    def key(self) -> str:
        """A short stable id for idempotency keys that does not spell out the address."""
        digest = hashlib.sha256(f"{self.channel}|{self.address}".encode()).hexdigest()
        return f"{self.tier}:{self.channel}:{digest[:16]}"


CASE_MANAGEMENT_KINDS = frozenset({APPROACH_PATTERN_KIND, CONTACT_ATTEMPT_KIND, MATRIX_RISE_KIND})


def initial_tiers(
    kind: str, severity: Severity, at: datetime, hours: WorkingHours
) -> frozenset[Tier]:
    """Tiers told when an alert is raised.

    The monitoring centre always; the responsible officer in working hours, else the duty officer
    (low-severity alerts wait for the officer's morning instead of waking the duty officer); the
    police control room for critical alerts; the protected person (if they opted in) for critical
    zone violations. A pattern alert, and another service's news about a tagged man (a refused
    call, a rise in the harm matrix), go to the officer whatever the hour: they are signals for
    case management, not emergencies.
    """
    tiers = {Tier.MONITORING_CENTRE}
    if kind in CASE_MANAGEMENT_KINDS or severity is Severity.LOW or hours.contains(at):
        tiers.add(Tier.RESPONSIBLE_OFFICER)
    else:
        tiers.add(Tier.DUTY_OFFICER)
    if kind in CASE_MANAGEMENT_KINDS:
        return frozenset(tiers)
    if severity is Severity.CRITICAL:
        tiers.add(Tier.POLICE_CONTROL_ROOM)
        if kind in ZONE_KINDS:
            tiers.add(Tier.PROTECTED_PERSON)
    return frozenset(tiers)


def recipients_for(
    tiers: frozenset[Tier],
    severity: Severity,
    case: CaseInfo | None,
    control_room: ControlRoom | None,
    protected: list[ProtectedRef],
    monitoring_centre_email: str,
) -> list[Recipient]:
    """Turn tiers into channel addresses. Officers get email, plus SMS from high severity up.

    The live web queue (server-sent events) is not listed: every operator's browser sees every
    alert change it is allowed to see, straight from the alert table's changes.
    """
    out: list[Recipient] = []
    texting = severity.rank >= Severity.HIGH.rank
    if Tier.MONITORING_CENTRE in tiers and monitoring_centre_email:
        out.append(Recipient(Tier.MONITORING_CENTRE, "email", monitoring_centre_email))
    for tier, contact in (
        (Tier.RESPONSIBLE_OFFICER, case.responsible_officer if case else None),
        (Tier.DUTY_OFFICER, case.duty_officer if case else None),
    ):
        if tier not in tiers or contact is None:
            continue
        if contact.email:
            out.append(Recipient(tier, "email", contact.email))
        if contact.phone and texting:
            out.append(Recipient(tier, "sms", contact.phone))
    if Tier.POLICE_CONTROL_ROOM in tiers and control_room is not None:
        if control_room.webhook_url:
            out.append(Recipient(Tier.POLICE_CONTROL_ROOM, "webhook", control_room.webhook_url))
        elif control_room.email:
            out.append(Recipient(Tier.POLICE_CONTROL_ROOM, "email", control_room.email))
    if Tier.PROTECTED_PERSON in tiers:
        for ref in protected:
            if ref.notify_opt_in:
                out.append(Recipient(Tier.PROTECTED_PERSON, "protected_person", ref.id))
    # A person who is both responsible and duty officer is told once per channel.
    seen: set[tuple[str, str]] = set()
    unique: list[Recipient] = []
    for recipient in out:
        if (recipient.channel, recipient.address) not in seen:
            seen.add((recipient.channel, recipient.address))
            unique.append(recipient)
    return unique
