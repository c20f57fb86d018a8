"""The ways a flat is written before or beside the building number, read before the address is
cleaned (its slashes are what tell them apart).

"2/14 High St" is flat 2 at number 14. "2/1, 14 High St" and "Flat 2/1" are a tenement flat (the
second floor, first door, as Glasgow writes it) at number 14, kept whole as "2/1". A slash that is
part of a date ("12/05/2024") or a fraction ("1/2 mile") is neither, and is left as written.
"""

from __future__ import annotations

import re

FLAT_WORDS = r"(?:FLAT|APARTMENT|APT|UNIT|ROOM|MAISONETTE)\s*(?:NO\.?\s*)?"
# Words that make "1/2" a fraction ("1/2 mile past the church"), not a flat and a building.
_MEASURES = (
    r"(?:MILES?|MI|KMS?|KILOMETRES?|METRES?|M|YARDS?|YDS?|FEET|FOOT|FT|INCH(?:ES)?|HOURS?|HRS?"
    r"|MINUTES?|MINS?|TIMES?|WAY|OF|AN?)\b"
)
# A pair of numbers joined by a slash that touches no other slash (so not part of a date).
_PAIR = r"(?<![0-9/])\b([0-9]+)[ \t]*/[ \t]*([0-9]+)\b(?![ \t]*/)"
# What follows a building number: a street's first word, not a measure.
_STREET_AHEAD = rf"[ \t]+(?!{_MEASURES})[A-Z]"
# "Flat 2/1" followed by no street word; or "2/1" followed by the building number and street.
_TENEMENT_FLAT = re.compile(
    rf"\b{FLAT_WORDS}{_PAIR}(?![ \t]*[A-Z])"
    rf"|{_PAIR}(?=[ \t]*,?[ \t]*\n?[ \t]*[0-9]+[A-Z]?{_STREET_AHEAD})"
)
# "2/14 High St", "2A / 14", "Flat 2 14 High St", "2 14 High St": the flat, then the building
# number. What follows must be a street word (or, after a slash, the end of the line).
_FLAT_BEFORE_BUILDING = re.compile(
    rf"(?:\b{FLAT_WORDS})?(?<![0-9/])\b([0-9]+[A-Z]?)"
    rf"(?:[ \t]*/[ \t]*([0-9]+[A-Z]?)\b(?![ \t]*/)(?=[ \t]*(?:[,\n]|$)|{_STREET_AHEAD})"
    rf"|[ \t]+([0-9]+[A-Z]?)\b(?={_STREET_AHEAD}))",
    re.MULTILINE,
)


def take_tenement_flat(text: str) -> tuple[str | None, str]:
    """The tenement flat ("2/1") and the text without it. ``text`` is upper case, its postcode
    already taken out."""
    found = _TENEMENT_FLAT.search(text)
    if not found:
        return None, text
    floor, door = (g for g in found.groups() if g is not None)
    return f"{floor}/{door}", text[: found.start()] + "," + text[found.end() :]


def spell_out_flat_before_building(text: str) -> str:
    """ "2/14 High St" as "FLAT 2, 14 High St", so the flat is not read as the house number."""

    def spelt(found: re.Match[str]) -> str:
        building = found.group(2) or found.group(3)
        return f"FLAT {found.group(1)}, {building}"

    return _FLAT_BEFORE_BUILDING.sub(spelt, text)
