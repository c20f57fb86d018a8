"""What each kind of alert is called where people read it: the queue, the alert page, the
person page and the alert's email."""

from __future__ import annotations

from vigil.alerts.model import APPROACH_PATTERN_KIND, CONTACT_ATTEMPT_KIND, MATRIX_RISE_KIND
from vigil.engine.events import EventKind as K

KIND_LABELS: dict[str, str] = {
    K.EXCLUSION_ZONE: "Entered an exclusion zone",
    K.POSSIBLE_TRANSIT: "Possibly passing through an exclusion zone",
    K.APPROACH_WARNING: "Approaching an exclusion zone",
    APPROACH_PATTERN_KIND: "Repeatedly approaching an exclusion zone",
    K.CURFEW: "Absent during curfew",
    K.INCLUSION_ZONE: "Left an inclusion zone",
    K.PROXIMITY: "Close to the protected person",
    K.STRAP_REMOVED: "Tag strap removed",
    K.TAMPER: "Tag tampered with",
    K.SOS: "Protected person pressed SOS",
    K.BATTERY_LOW: "Tag battery low",
    K.NO_COMMUNICATION: "Tag not reporting",
    K.NO_GPS: "Tag has no GPS position",
    K.ALCOHOL: "Alcohol detected",
    CONTACT_ATTEMPT_KIND: "Contact attempt from prison",
    MATRIX_RISE_KIND: "Risen in the harm matrix",
}


def kind_label(kind: str) -> str:
    """The kind's name, or for a kind without one its code in words ("Strap removed")."""
    words = kind.replace("_", " ").strip()
    return KIND_LABELS.get(kind) or words[:1].upper() + words[1:]
