"""The call protocol an operator follows for an alert: who is called, and what they are asked."""

from __future__ import annotations

from vigil.alerts.model import APPROACH_PATTERN_KIND, CONTACT_ATTEMPT_KIND, MATRIX_RISE_KIND
from vigil.alerts.queue import VICTIM_RISK_KINDS
from vigil.engine.events import EventKind as K

# What the operator asks of the wearer, by kind: "told to leave the zone" means nothing for a
# flat battery or a removed strap.
_WEARER_ASK: dict[str, str] = {
    K.EXCLUSION_ZONE: "asked where they are and told to leave the zone",
    K.POSSIBLE_TRANSIT: "asked where they are going and told to keep out of the zone",
    K.APPROACH_WARNING: "told they are close to a zone they must keep out of",
    APPROACH_PATTERN_KIND: "told their repeated approaches to the zone are recorded",
    K.PROXIMITY: "asked where they are and told to move away from the protected person",
    K.CURFEW: "asked where they are and told to go home now",
    K.INCLUSION_ZONE: "asked where they are and told to return to the permitted area",
    K.STRAP_REMOVED: "asked why the strap is off, told to stay where they are for a visit",
    K.TAMPER: "asked about the tag and told it will be checked",
    K.SOS: "asked where they are",
    K.BATTERY_LOW: "told to charge the tag now",
    K.NO_COMMUNICATION: "asked where they are and to check the tag is charged and on",
    K.NO_GPS: "asked where they are and to go outdoors for a position",
    K.ALCOHOL: "asked about drinking and reminded of the condition",
    CONTACT_ATTEMPT_KIND: "reminded that contacting the protected person breaches the bar",
    MATRIX_RISE_KIND: "asked where they are; the officer reviews the new incidents",
}
# Kinds where the protected person may be in danger: they are called, and the police told.
_VICTIM_CALL_KINDS = VICTIM_RISK_KINDS | {
    K.POSSIBLE_TRANSIT,
    APPROACH_PATTERN_KIND,
    K.STRAP_REMOVED,
    CONTACT_ATTEMPT_KIND,
}


def call_steps(kind: str) -> tuple[tuple[str, str], ...]:
    """The calls an operator makes for one kind of alert, in order, as (key, label)."""
    steps: list[tuple[str, str]] = []
    if kind in _VICTIM_CALL_KINDS:
        steps.append(
            ("protected_person", "Protected person called: safe and told what is happening")
        )
    wearer = _WEARER_ASK.get(kind, "asked where they are")
    steps.append(("wearer", f"Wearer called: {wearer}"))
    if kind in _VICTIM_CALL_KINDS:
        steps.append(("police", "Police control room told"))
    steps.append(("officer", "Responsible officer told"))
    return tuple(steps)
