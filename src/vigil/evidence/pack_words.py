"""The evidence pack in words, for the PDF a court reads: what the violation was, the engine's
reasoning, the device's health and the alert's handling, from the signed evidence (which keeps
the codes and numbers; only their reading is here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vigil.words import actor_name, code_label

KINDS = {
    "exclusion_zone": "Entered an exclusion zone",
    "inclusion_zone": "Left the area he must stay in (inclusion zone)",
    "curfew": "Away from the curfew address during curfew hours",
    "proximity": "Came close to the protected person",
    "approach_warning": "Approached an exclusion zone",
    "possible_transit": "May have passed through an exclusion zone between two fixes",
    "strap_removed": "Strap removed",
    "tamper": "Tag tampered with",
    "battery_low": "Battery low",
    "no_communication": "No communication from the tag",
    "no_gps": "No GPS position",
    "alcohol": "Alcohol detected",
    "sos": "Emergency button pressed",
}
RULES = {
    "sequential": "weight of evidence: several fixes inside, no single fix decisive",
    "dwell": "time inside: several fixes inside over the dwell time",
}
_DETAIL_LABELS = {
    "reason": ("The engine's reasoning", ""),
    "rule": ("Rule that confirmed it", ""),
    "fixes_inside": ("Fixes inside when it was confirmed", ""),
    "evidence": ("Weight of evidence (log-odds that he was inside)", ""),
    "strongest_fix_evidence": ("of which from the strongest single fix", ""),
    "corroborating_evidence": ("of which from the other fixes", ""),
    "depth_m": ("Deepest fix inside the zone's edge", " m"),
    "accuracy_m": ("Accuracy of that fix", " m"),
    "distance_m": ("Distance", " m"),
    "gap_s": ("Time between the two fixes", " s"),
    "near_exclusion_zone": ("Near an exclusion zone", ""),
    "reading": ("Reading", ""),
    "severity": ("Severity", ""),
    "withdrawn": ("Withdrawn by the engine (the evidence no longer supported it)", ""),
    "late": ("Found in data that arrived late", ""),
}


def words(code: object) -> str:
    """A code as people read it: ``strap_removed`` is "Strap removed"."""
    return code_label(code)


def kind_words(kind: object) -> str:
    return KINDS.get(str(kind), words(kind))


def detail_rows(detail: dict[str, Any]) -> list[tuple[str, str]]:
    """The engine's detail as labelled values, its reasoning first."""
    ordered = sorted(detail.items(), key=lambda item: (item[0] != "reason", item[0] != "rule"))
    rows = []
    for key, value in ordered:
        if key in ("fix_ids", "phase"):
            continue
        label, unit = _DETAIL_LABELS.get(key, (words(key), ""))
        if key == "rule":
            value = RULES.get(str(value), str(value))
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        rows.append((label, f"{value}{unit}"))
    return rows


def duration_words(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{round(seconds)} seconds"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{hours} h {minutes:02d} min"


# Device events the engine finds by what did not arrive, not by what the tag reported.
_ABSENCES = {
    "no_communication": "The tag sent nothing at all",
    "no_gps": "The tag sent messages but no GPS position",
}


def event_sentence(violation: dict[str, Any], start: str, end: str | None) -> str:
    """Why a device event stands, for an episode with no zone to measure against; ``start`` and
    ``end`` as the reader reads them."""
    kind = str(violation.get("kind"))
    until = f"until {end}" if end else "to when the pack was made"
    if kind in _ABSENCES:
        return f"{_ABSENCES[kind]} from {start} {until}."
    return (
        f"The tag itself reported: {kind_words(kind).lower()}, at {start}. Its messages are in "
        "the table of fixes below, each as received."
    )


def health_sentences(health: dict[str, Any]) -> list[str]:
    """What the fixes in the pack say about the tag, one sentence a point."""
    if not health.get("fixes"):
        return [
            "No fix from the tag falls in the pack's period, so nothing is known of its "
            "battery, alarms or accuracy then."
        ]
    devices = ", ".join(health.get("devices") or []) or "no device"
    lines = [f"{health.get('fixes', 0)} fixes from device {devices} fall in the pack's period."]
    low, high = health.get("battery_min_pct"), health.get("battery_max_pct")
    lines.append(
        "The tag reported no battery level."
        if low is None
        else f"The battery stayed between {low:g}% and {high:g}%."
    )
    alarms = health.get("alarms") or []
    lines.append(
        "The tag raised no alarm (no strap, tamper or other alarm)."
        if not alarms
        else "The tag raised these alarms: " + ", ".join(words(a) for a in alarms) + "."
    )
    lines.append(
        f"The longest time between two fixes was {duration_words(health.get('longest_gap_s'))}."
    )
    median = health.get("accuracy_median_m")
    if median is not None:
        lines.append(f"Half the fixes were accurate to {median:g} m or better.")
    flagged = int(health.get("flagged_fixes") or 0)
    lines.append(
        "No fix was flagged as implausible or as not a real position."
        if not flagged
        else f"{flagged} fixes were flagged as implausible or not a real position: they are "
        "listed below but prove nothing."
    )
    return lines


@dataclass(frozen=True)
class HistoryRow:
    at: str
    until: str | None  # the last of several like entries shown as one
    who: str
    what: str
    note: str


def history_rows(history: list[dict[str, Any]]) -> list[HistoryRow]:
    """The alert's handling, one row a step: repeated steps that changed nothing (the timer
    escalating again, status new to new) read as one row with how often and until when."""
    rows: list[HistoryRow] = []
    runs: list[list[dict[str, Any]]] = []
    for entry in history:
        last = runs[-1][-1] if runs else None
        if last is not None and _repeats(last, entry):
            runs[-1].append(entry)
        else:
            runs.append([entry])
    for run in runs:
        first, final = run[0], run[-1]
        rows.append(
            HistoryRow(
                at=first["at"],
                until=final["at"] if len(run) > 1 else None,
                who=who(first.get("actor")),
                what=_step_words(final, len(run)),
                note=" ".join(str(e["note"]) for e in run if e.get("note")),
            )
        )
    return rows


def _repeats(before: dict[str, Any], entry: dict[str, Any]) -> bool:
    return (
        entry.get("action") == before.get("action")
        and entry.get("actor") == before.get("actor")
        and entry.get("from_status") == entry.get("to_status")
        and not entry.get("note")
    )


def _step_words(entry: dict[str, Any], times: int) -> str:
    action, detail = str(entry.get("action")), entry.get("detail") or {}
    before, after = entry.get("from_status"), entry.get("to_status")
    if action == "raised":
        text = "Alert raised"
    elif action == "escalated":
        tiers = ", ".join(words(t) for t in detail.get("tiers", []))
        level = detail.get("level")
        text = "Escalated" + (f" {times} times" if times > 1 else "")
        text += f", to level {level}" if level is not None else ""
        text += f" (now told: {tiers})" if tiers else ""
    elif action.startswith("episode_"):
        text = f"The engine reported the episode {action.removeprefix('episode_')}"
        text += f" ({times} times)" if times > 1 else ""
    else:
        text = words(action) + (f" ({times} times)" if times > 1 else "")
    if before and after and before != after:
        text += f"; status {before} → {after}"
    return text


def who(actor: str | None) -> str:
    """A user by username, a machine token by its name, and Vigil for what it did itself."""
    return actor_name(actor)
