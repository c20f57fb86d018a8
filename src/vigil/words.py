"""How stored values read to people, wherever they read them (pages, PDFs, e-mails): codes as
words, actors as names, times in UK local time with the zone abbreviation. Machine outputs (the
API, exports, logs) keep codes and UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

# Words in codes that people write in capitals ("gps_tag" is "GPS tag").
_ACRONYMS = {"gps": "GPS", "rf": "RF", "sos": "SOS", "crn": "CRN", "pnc": "PNC", "sms": "SMS"}

# Actors Vigil itself records ("system:alerts"), by the part that acted.
_SYSTEM_ACTORS = {
    "system": "Vigil",
    "cli": "the command line",
    "demo": "the demo set-up",
    "anonymous": "a member of the public",
}


def local_time(
    value: datetime | str | None, fmt: str = "%-d %b %Y %H:%M %Z", tz: ZoneInfo | None = None
) -> str:
    """A stored UTC time (a datetime or ISO text) as people read it: local time with its zone
    abbreviation, "10:00 BST" in summer and "09:00 GMT" in winter."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(tz or LONDON).strftime(fmt)


def code_label(value: object) -> str:
    """A stored code as people read it: ``strap_removed`` is "Strap removed", ``starts_at``
    "Starts at". Pages print codes through this, never raw (an enum gives its value)."""
    words = [_ACRONYMS.get(w, w) for w in str(getattr(value, "value", value)).split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def actor_name(actor: str | None) -> str:
    """Who did something, as people read it: a user's username ("user:9:officer" is "officer"),
    a machine token's name, and Vigil for what the system did itself."""
    if not actor:
        return ""
    kind, _, rest = actor.partition(":")
    if kind in ("user", "token"):
        name = rest.partition(":")[2] or rest
        return name if kind == "user" else f"{name} (machine)"
    return _SYSTEM_ACTORS.get(kind, actor)
