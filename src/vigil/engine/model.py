"""The engine's plain model: settings, conditions and the plan it watches. No framework imports."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import IntEnum

from vigil.engine.timetable import Timetable
from vigil.geo.kernels import ZoneShape
from vigil.tracking.quality import MAX_PLAUSIBLE_SPEED_MPS, SETTLE_S


class ZoneKind(IntEnum):
    """How a zone condition is enforced (stored in the compiled arrays, hence an int)."""

    EXCLUSION = 0  # must stay out
    INCLUSION = 1  # must stay in while the timetable says so (curfew is an inclusion zone)


class FixClass(IntEnum):
    """Where a fix's accuracy disc lies relative to a zone and its warning buffer.

    ``d`` is the signed distance of the reported point (negative inside), ``acc`` its accuracy.
    """

    FAR = 0  # d > buffer + acc: the disc is clear of the buffer
    EDGE = 1  # buffer < d <= buffer + acc: the disc touches the buffer's outer edge
    BUFFER = 2  # acc <= d <= buffer: point in the buffer, disc outside the zone
    UNSURE_OUT = 3  # 0 <= d < acc: point outside, disc overlaps the zone
    LIKELY_IN = 4  # -acc < d < 0: point inside, disc overlaps the edge
    IN = 5  # d <= -acc: the whole disc is inside
    NEUTRAL = 6  # a low-quality fix: kept as evidence, never moves a state machine


@dataclass(frozen=True)
class EngineSettings:
    """Tuning of the rules; every field can be set in a scenario's ``settings`` object."""

    # Exclusion: a sequential test. A fix is a Gaussian error disc with ``accuracy_sigmas``
    # standard deviations per axis in its reported accuracy; against a straight edge, the chance
    # its true position is inside is P = Phi(-d / sigma). Each fix adds its log-likelihood ratio
    # log(P / (1 - P)) (capped at +-``evidence_cap``) to the visit's total, weighted by
    # min(1, gap / ``evidence_correlation_s``) because GPS error is correlated over tens of
    # seconds: a burst of fixes a second apart is one observation, not many. A visit starts with a
    # point-inside fix and is confirmed once it has ``confirm_fixes`` (at least 2) point-inside
    # fixes, the total reaches ``confirm_llr`` (odds of about e^llr : 1 that the wearer is
    # inside) and the fixes other than the strongest one still reach ``corroborate_llr`` on
    # their own; or three point-inside fixes keep it positive for the dwell time. No single fix
    # confirms, however deep: lone multipath outliers with a small reported accuracy are common
    # in real GNSS data. A visit is dropped when the total goes negative or a disc is clear of
    # the zone.
    confirm_fixes: int = 2
    confirm_llr: float = 1.0
    corroborate_llr: float = 0.5
    accuracy_sigmas: float = 2.0
    evidence_cap: float = 4.0
    evidence_correlation_s: float = 15.0
    confirm_dwell_s: float = 60.0
    # A fix whose reported accuracy is larger than this share of the zone's depth (its radius,
    # or the deepest a point can be inside a polygon) says almost nothing about being inside it:
    # it carries no inside evidence for that exclusion zone.
    inside_accuracy_share: float = 0.5
    # Adaptive reporting: a wearer within this distance of an exclusion zone without a buffer
    # (or inside a zone's buffer) is asked to report faster; 0 asks only while a visit is pending
    # or a violation is open.
    fast_report_within_m: float = 0.0
    # ... and keeps reporting faster for this long after the last reason to (no flapping).
    fast_report_hold_s: float = 300.0
    # An approach warning re-arms only once a disc is this far beyond the buffer.
    approach_rearm_m: float = 100.0
    # Exit after this many consecutive fixes whose disc is clear of the zone.
    exit_fixes: int = 2
    # Evidence further apart than this does not add up (a new visit starts over).
    max_gap_s: float = 300.0
    # Inclusion zones and curfews: clear-outside fixes needed to call the wearer absent.
    absence_fixes: int = 2
    # A violation confirmed by a fix older than this (against the engine's clock) is retrospective.
    late_after_s: float = 120.0
    # Fix quality.
    max_speed_mps: float = MAX_PLAUSIBLE_SPEED_MPS
    # A track of implausible fixes is trusted only after this long with no plausible fix.
    implausible_settle_s: float = SETTLE_S
    max_accuracy_m: float = 1000.0
    default_accuracy_m: float = 25.0
    # Device health.
    no_communication_s: float = 1800.0
    no_gps_s: float = 1800.0
    no_gps_near_m: float = 1000.0
    battery_low_pct: float = 20.0
    battery_recover_pct: float = 25.0
    battery_critical_pct: float = 10.0
    # Proximity defaults (a condition may override them).
    proximity_max_age_s: float = 120.0
    proximity_exit_ratio: float = 1.2
    # Late fixes are re-evaluated from a checkpoint within this much history.
    history_s: float = 86_400.0
    checkpoint_every_s: float = 60.0

    @classmethod
    def names(cls) -> set[str]:
        return {item.name for item in fields(cls)}


@dataclass(frozen=True)
class ZoneCondition:
    id: str
    person: str
    kind: ZoneKind
    event_kind: str  # exclusion_zone, inclusion_zone or curfew
    shape: ZoneShape
    buffer_m: float = 0.0
    timetable: Timetable | None = None  # None: always enforced
    grace_s: float = 0.0


@dataclass(frozen=True)
class ProximityCondition:
    id: str
    person: str
    device: str  # the protected person's own device
    enter_m: float
    exit_m: float
    max_age_s: float


@dataclass(frozen=True)
class AlcoholCondition:
    id: str
    person: str
    threshold: float
    sustained_s: float


@dataclass(frozen=True)
class PersonPlan:
    id: str
    devices: tuple[str, ...]
    zones: tuple[ZoneCondition, ...] = ()
    proximity: tuple[ProximityCondition, ...] = ()
    alcohol: tuple[AlcoholCondition, ...] = ()


@dataclass(frozen=True)
class Plan:
    persons: tuple[PersonPlan, ...]
    timezone: str = "Europe/London"
    settings: EngineSettings = field(default_factory=EngineSettings)
