"""Alert rules: lifecycle, severities, outcomes, escalation ladder. Plain Python, no framework.

Every status and kind the alerts part uses is declared here once and used everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from vigil.engine.events import EventKind
from vigil.errors import ValidationError
from vigil.security import permissions
from vigil.security.model import Principal, Role


class AlertStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Higher is more urgent; used for ordering queues and for bumping a level."""
        return _SEVERITY_RANK[self]

    def bumped(self) -> Severity:
        return _BY_RANK[min(self.rank + 1, 3)]


_SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}
_BY_RANK = {rank: severity for severity, rank in _SEVERITY_RANK.items()}


class Outcome(StrEnum):
    GENUINE_VIOLATION = "genuine_violation"
    FALSE_ALERT = "false_alert"
    TECHNICAL_FAULT = "technical_fault"
    AUTHORISED = "authorised"
    DUPLICATE = "duplicate"


class AlertSource(StrEnum):
    """What raised the alert: one engine episode, or a pattern across several episodes."""

    EPISODE = "episode"
    PATTERN = "pattern"
    CROSS_SERVICE = "cross_service"  # another service's news about a tagged man (vigil.links)


# The kind of a pattern alert; episode alerts carry the engine's EventKind value as their kind.
APPROACH_PATTERN_KIND = "approach_pattern"
# Kinds of cross-service alerts: a tagged man's refused call or held letter, and his rise in the
# harm matrix. They go to his responsible officer as case-management signals.
CONTACT_ATTEMPT_KIND = "contact_attempt"
MATRIX_RISE_KIND = "matrix_rise"


class HistoryAction(StrEnum):
    RAISED = "raised"
    UPDATED = "updated"
    EPISODE_ENDED = "episode_ended"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    NOTE = "note"


class Tier(StrEnum):
    """Who is told. Routing picks tiers; the directory turns a tier into addresses."""

    MONITORING_CENTRE = "monitoring_centre"
    RESPONSIBLE_OFFICER = "responsible_officer"
    DUTY_OFFICER = "duty_officer"
    POLICE_CONTROL_ROOM = "police_control_room"
    PROTECTED_PERSON = "protected_person"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    # Only for errors no retry can fix (e.g. the receiver rejects the address); everything else
    # stays pending and is retried with backoff, so a channel that is down never loses a delivery.
    FAILED = "failed"


class SuppressionKind(StrEnum):
    AUTHORISED_ABSENCE = "authorised_absence"
    APPOINTMENT = "appointment"
    MOVE = "move"


# Kinds that are about the wearer being where a zone says they must not be (or must be).
ZONE_KINDS = frozenset({EventKind.EXCLUSION_ZONE, EventKind.PROXIMITY})
# Device and safety events that are never suppressed by an order's windows: an authorised absence
# from home does not make a cut strap or a victim's SOS expected.
NEVER_SUPPRESSED = frozenset({EventKind.STRAP_REMOVED, EventKind.TAMPER, EventKind.SOS})
HIGH_RISK_LEVELS = frozenset({"high", "very_high"})


def is_high_risk(risk_level: str | None) -> bool:
    return (risk_level or "").strip().lower() in HIGH_RISK_LEVELS


def severity_for(
    kind: str, risk_level: str | None, detail: dict[str, Any] | None = None
) -> Severity:
    """Severity from the condition kind and the case's risk.

    A confirmed exclusion-zone or proximity violation in a high-risk case is critical; curfew
    absence is high; device health by type (strap removal critical). Device health problems
    reported near a zone (``detail["near_zone"]``) are one level more urgent: a tag that goes
    quiet next to the victim's home is not a flat battery.
    """
    high_risk = is_high_risk(risk_level)
    detail = detail or {}
    if kind == APPROACH_PATTERN_KIND:
        return Severity.HIGH
    event_kind = EventKind(kind)
    if event_kind in ZONE_KINDS:
        return Severity.CRITICAL if high_risk else Severity.HIGH
    base = _BASE_SEVERITY[event_kind]
    if event_kind is EventKind.TAMPER and high_risk:
        base = Severity.CRITICAL
    if event_kind in _DEVICE_HEALTH and detail.get("near_zone"):
        base = base.bumped()
    return base


_DEVICE_HEALTH = frozenset(
    {EventKind.BATTERY_LOW, EventKind.NO_COMMUNICATION, EventKind.NO_GPS, EventKind.TAMPER}
)
_BASE_SEVERITY: dict[EventKind, Severity] = {
    EventKind.EXCLUSION_ZONE: Severity.HIGH,
    EventKind.PROXIMITY: Severity.HIGH,
    EventKind.POSSIBLE_TRANSIT: Severity.MEDIUM,
    EventKind.APPROACH_WARNING: Severity.LOW,
    EventKind.CURFEW: Severity.HIGH,
    EventKind.INCLUSION_ZONE: Severity.HIGH,
    EventKind.STRAP_REMOVED: Severity.CRITICAL,
    EventKind.TAMPER: Severity.HIGH,
    EventKind.SOS: Severity.CRITICAL,
    EventKind.BATTERY_LOW: Severity.LOW,
    EventKind.NO_COMMUNICATION: Severity.MEDIUM,
    EventKind.NO_GPS: Severity.MEDIUM,
    EventKind.ALCOHOL: Severity.MEDIUM,
}


@dataclass(frozen=True)
class EscalationPolicy:
    """How long each severity may wait for a human before the next tier is told.

    ``None`` means the severity never escalates on its own (low alerts wait in the queue).
    """

    deadlines: dict[Severity, timedelta | None] = field(
        default_factory=lambda: {
            Severity.CRITICAL: timedelta(minutes=2),
            Severity.HIGH: timedelta(minutes=10),
            Severity.MEDIUM: timedelta(minutes=60),
            Severity.LOW: None,
        }
    )

    def deadline_after(self, severity: Severity, at: datetime) -> datetime | None:
        wait = self.deadlines.get(severity)
        return None if wait is None else at + wait


# Each escalation level adds these tiers to the people already told. Once the last level is
# reached the alert holds there, overdue, until someone acknowledges it: every tier has been told,
# and telling them again every few minutes buries the alert rather than raising it.
ESCALATION_LADDER: tuple[frozenset[Tier], ...] = (
    frozenset({Tier.DUTY_OFFICER}),
    frozenset({Tier.DUTY_OFFICER, Tier.POLICE_CONTROL_ROOM}),
)


TOP_ESCALATION_LEVEL = len(ESCALATION_LADDER)


def escalation_tiers(level: int) -> frozenset[Tier]:
    """Tiers told at escalation ``level`` (1 = first escalation)."""
    if level < 1:
        raise ValueError("escalation levels start at 1")
    return ESCALATION_LADDER[min(level, len(ESCALATION_LADDER)) - 1] | {Tier.MONITORING_CENTRE}


@dataclass(frozen=True)
class WorkingHours:
    """Office hours of probation officers, in local time. Outside them the duty officer is told.

    Bank holidays are not modelled: on one, the responsible officer is told as on a weekday.
    """

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    start: time = time(8, 0)
    end: time = time(18, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        return local.weekday() in self.weekdays and self.start <= local.time() < self.end


@dataclass
class Alert:
    """The state of one alert as the lifecycle rules see it."""

    id: int
    status: AlertStatus
    severity: Severity
    escalated: bool
    escalation_level: int
    next_escalation_at: datetime | None

    def acknowledge(self) -> None:
        if self.status is not AlertStatus.NEW:
            raise ValidationError(
                "status", f"only a new alert can be acknowledged (it is {self.status})"
            )
        self.status = AlertStatus.ACKNOWLEDGED
        # Somebody is acting: stop the escalation clock.
        self.next_escalation_at = None

    @property
    def overdue(self) -> bool:
        """Every tier has been told and still nobody has acknowledged it."""
        return is_overdue(self.status, self.escalation_level)

    def escalate(self, policy: EscalationPolicy, at: datetime) -> frozenset[Tier]:
        """Move to the next tier; below the top the deadline restarts so it escalates again if
        still ignored, at the top it holds (overdue) until acknowledged."""
        if self.status is AlertStatus.RESOLVED:
            raise ValidationError("status", "a resolved alert cannot be escalated")
        if self.escalation_level >= TOP_ESCALATION_LEVEL:
            raise ValidationError("status", "the alert has already reached every tier")
        self.escalated = True
        self.escalation_level += 1
        if self.escalation_level >= TOP_ESCALATION_LEVEL:
            self.next_escalation_at = None
        elif self.status is AlertStatus.NEW:
            # A manual escalation of a still-unacknowledged alert keeps the timer running;
            # at least the severity's own deadline (or two minutes for severities without one).
            wait = policy.deadlines.get(self.severity) or timedelta(minutes=2)
            self.next_escalation_at = at + wait
        return escalation_tiers(self.escalation_level)

    def resolve(self, outcome: Outcome | str | None, note: str | None) -> Outcome:
        if self.status is AlertStatus.RESOLVED:
            raise ValidationError("status", "the alert is already resolved")
        resolved_outcome = parse_outcome(outcome)
        if not (note or "").strip():
            raise ValidationError("note", "a resolution needs a note saying what was done")
        self.status = AlertStatus.RESOLVED
        self.next_escalation_at = None
        return resolved_outcome


def is_overdue(status: AlertStatus | str, escalation_level: int) -> bool:
    """An alert at the top of the ladder that nobody has acknowledged."""
    return str(status) == AlertStatus.NEW.value and escalation_level >= TOP_ESCALATION_LEVEL


def parse_outcome(value: Outcome | str | None) -> Outcome:
    if value is None or value == "":
        raise ValidationError("outcome", "is required to resolve an alert")
    try:
        return Outcome(value)
    except ValueError as exc:
        choices = ", ".join(o.value for o in Outcome)
        raise ValidationError("outcome", f"must be one of {choices}") from exc


def backoff(attempt: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """Wait before the next attempt after ``attempt`` failures: doubling, capped."""
    if attempt < 1:
        return timedelta(0)
    factor: int = 1 << min(attempt - 1, 20)
    return min(base * factor, cap)


@dataclass(frozen=True)
class SuppressionWindow:
    person_id: str
    condition_id: str | None
    kind: SuppressionKind
    starts_at: datetime
    ends_at: datetime

    def covers(self, kind: str, person_id: str, condition_id: str | None, at: datetime) -> bool:
        """An expected event: same person, same condition (or any, if the window names none),
        inside the window, and not a safety event that no window can make expected."""
        if kind in NEVER_SUPPRESSED or person_id != self.person_id:
            return False
        if self.condition_id is not None and condition_id != self.condition_id:
            return False
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class PatternRule:
    """Approach warnings on the same condition, at least ``threshold`` within ``within``."""

    threshold: int = 3
    within: timedelta = timedelta(days=7)

    def is_pattern(self, warning_times: list[datetime], at: datetime) -> bool:
        recent = [t for t in warning_times if at - self.within <= t <= at]
        return len(recent) >= self.threshold


@dataclass(frozen=True)
class AlertChange:
    """Published on ``Topic.ALERTS`` after an alert change commits; live pages listen to it.

    ``history_id`` orders changes and lets a reconnecting browser ask for what it missed.
    """

    alert_id: int
    history_id: int
    action: HistoryAction
    status: AlertStatus
    severity: Severity
    kind: str
    person_id: str
    managing_team_id: int | None
    force_area: str | None
    escalated: bool
    escalation_level: int
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "history_id": self.history_id,
            "action": self.action.value,
            "status": self.status.value,
            "severity": self.severity.value,
            "kind": self.kind,
            "person_id": self.person_id,
            "escalated": self.escalated,
            "escalation_level": self.escalation_level,
            "at": self.at.isoformat(),
        }

    def message_json(self) -> dict[str, Any]:
        """Plain JSON for the bus, so it crosses NATS as well as the in-process bus."""
        return {
            **self.as_json(),
            "managing_team_id": self.managing_team_id,
            "force_area": self.force_area,
        }

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> AlertChange:
        return cls(
            alert_id=int(data["alert_id"]),
            history_id=int(data["history_id"]),
            action=HistoryAction(data["action"]),
            status=AlertStatus(data["status"]),
            severity=Severity(data["severity"]),
            kind=str(data["kind"]),
            person_id=str(data["person_id"]),
            managing_team_id=data.get("managing_team_id"),
            force_area=data.get("force_area"),
            escalated=bool(data["escalated"]),
            escalation_level=int(data["escalation_level"]),
            at=datetime.fromisoformat(data["at"]),
        )


# Police see alerts only within their force area and only those that reached them (critical
# ones, or ones escalated to the control room).
POLICE_ESCALATION_LEVEL = 2


def visible_to(
    principal: Principal,
    *,
    severity: Severity,
    escalation_level: int,
    managing_team_id: int | None,
    force_area: str | None,
) -> bool:
    if not principal.may(permissions.ALERTS_WORK):
        return False
    if principal.role is Role.POLICE and not (
        severity is Severity.CRITICAL or escalation_level >= POLICE_ESCALATION_LEVEL
    ):
        return False
    return principal.can_see_person(managing_team_id, force_area)
