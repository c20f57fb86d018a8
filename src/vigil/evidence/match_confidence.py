"""A match's confidence in words: which fix decided it, and why it scores what it scores.

The confidence is computed in ``matching.py`` from three things about each fix near the scene:
how far it was from the scene, how accurate the device said it was (the two together give the
spatial class and its weight), and whether it fell inside the crime window or only in the padding
either side (the time weight). The deciding fix is the one with the highest confidence (then the
nearest). A reviewer reads the reasons, not a bare number; a fix outside the window is worth
at most 0.6, so it can never make a match high.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from vigil.evidence.crime_records import MatchedFix, RunParameters
from vigil.evidence.matching import (
    IN_WINDOW_WEIGHT,
    PADDING_WEIGHT,
    SPATIAL_WEIGHT,
    ConfidenceLabel,
    SpatialClass,
    confidence_label,
)

_LABEL_MEANING = {
    ConfidenceLabel.HIGH: "placed within the radius during the crime window",
    ConfidenceLabel.MEDIUM: (
        "placed near the scene, but only in the padding around the window or only by the edge "
        "of a fix's accuracy"
    ),
    ConfidenceLabel.LOW: (
        "only the edge of a fix's accuracy reaches the radius, and only in the padding"
    ),
}


@dataclass(frozen=True)
class ConfidenceReading:
    """The confidence as a reviewer reads it."""

    label: ConfidenceLabel
    value: float
    meaning: str
    fix_time: datetime
    reasons: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.label.value.capitalize()} ({self.value:.2f}): " + " ".join(self.reasons)


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} min"


def _where(fix: MatchedFix, radius_m: float, default_accuracy_m: float) -> str:
    spatial = SpatialClass(fix["spatial"])
    distance = float(fix["distance_m"])
    given = fix.get("accuracy_m")
    accuracy = (
        f"its {float(given):g} m accuracy"
        if given is not None
        else f"the {default_accuracy_m:g} m accuracy assumed when a device reports none"
    )
    weight = SPATIAL_WEIGHT[spatial]
    if spatial is SpatialClass.CERTAIN:
        why = f"with {accuracy} the whole fix lies within the {radius_m:g} m radius"
    elif spatial is SpatialClass.LIKELY:
        why = f"its position is within the {radius_m:g} m radius but {accuracy} reaches beyond it"
    else:
        why = f"its position is outside the {radius_m:g} m radius; only {accuracy} reaches it"
    return f"Where: {distance:.0f} m from the scene; {why} ({spatial.value}, × {weight:.1f})."


def _when(fix_time: datetime, window_from: datetime, window_to: datetime) -> str:
    if window_from <= fix_time <= window_to:
        return f"When: inside the crime window (× {IN_WINDOW_WEIGHT:.1f})."
    if fix_time < window_from:
        gap = _minutes((window_from - fix_time).total_seconds())
        return (
            f"When: {gap} before the crime window began, in the padding (× {PADDING_WEIGHT:.1f})."
        )
    gap = _minutes((fix_time - window_to).total_seconds())
    return f"When: {gap} after the crime window ended, in the padding (× {PADDING_WEIGHT:.1f})."


def _count(fixes: int, inside: int) -> str:
    reach = "1 fix reaches" if fixes == 1 else f"{fixes} fixes reach"
    return f"{reach} the radius, {inside} inside the window."


class MatchWindow(TypedDict):
    """What the reading needs of a stored match: its fixes and the crime window."""

    fixes: list[MatchedFix]
    window_from_utc: datetime
    window_to_utc: datetime


def read_confidence(match: MatchWindow, parameters: RunParameters) -> ConfidenceReading:
    """The reading of a stored match (its ``fixes`` and window) under its run's parameters."""
    fixes = match["fixes"]
    best = max(fixes, key=lambda f: (f["confidence"], -f["distance_m"]))
    fix_time = datetime.fromisoformat(best["time"])
    value = float(best["confidence"])
    label = confidence_label(value)
    inside = sum(1 for f in fixes if f["in_window"])
    reasons = (
        _where(best, float(parameters["radius_m"]), float(parameters["default_accuracy_m"])),
        _when(fix_time, match["window_from_utc"], match["window_to_utc"]),
        _count(len(fixes), inside),
    )
    return ConfidenceReading(label, value, _LABEL_MEANING[label], fix_time, reasons)
