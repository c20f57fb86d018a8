"""UK addresses as written on envelopes, reduced to the parts a mail room can compare.

A letter is held when it is addressed to a barred address, whoever it names: prison rules stop
letters to anyone else living there too. So the addressee's name is ignored and the address is
reduced to postcode, building (number or name), flat, street and town.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vigil.contact.flat_forms import FLAT_WORDS, spell_out_flat_before_building, take_tenement_flat

# Outward code + inward code, spaces optional, any case: "b11aa" is "B1 1AA".
_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b")
_FLAT = re.compile(rf"\b{FLAT_WORDS}([0-9]+[A-Z]?|[A-Z])\b")
_NUMBER = re.compile(r"^([0-9]+)\s*([A-Z])?\b")
_TITLES = {"MR", "MRS", "MS", "MISS", "DR", "MX", "THE", "OCCUPIER", "RESIDENT"}
STREET_WORDS = {
    "ST": "STREET",
    "RD": "ROAD",
    "AVE": "AVENUE",
    "AV": "AVENUE",
    "LN": "LANE",
    "DR": "DRIVE",
    "CL": "CLOSE",
    "CRES": "CRESCENT",
    "CT": "COURT",
    "GDNS": "GARDENS",
    "GRN": "GREEN",
    "GR": "GROVE",
    "PL": "PLACE",
    "SQ": "SQUARE",
    "TER": "TERRACE",
    "TERR": "TERRACE",
    "WY": "WAY",
    "PK": "PARK",
    "HSE": "HOUSE",
}
_STREET_SUFFIXES = set(STREET_WORDS.values()) | {
    "ROW",
    "HILL",
    "WALK",
    "MEWS",
    "PARADE",
    "RISE",
    "VIEW",
    "BOULEVARD",
    "END",
}
MAX_ADDRESS_LENGTH = 500


class NotAnAddress(ValueError):
    pass


@dataclass(frozen=True)
class Address:
    postcode: str | None
    building: str | None
    flat: str | None
    street: str | None
    town: str | None

    @property
    def display(self) -> str:
        parts = [
            f"Flat {self.flat}" if self.flat else None,
            " ".join(p for p in (self.building, self.street) if p) or None,
            self.town,
            self.postcode,
        ]
        return ", ".join(p for p in parts if p)


def normalise_postcode(raw: str) -> str | None:
    found = _POSTCODE.search(raw.upper())
    return f"{found.group(1)} {found.group(2)}" if found else None


def _clean(text: str) -> str:
    text = text.upper().replace("&", " AND ")
    return re.sub(r"[^A-Z0-9,\n ]+", " ", text)


def _expand(words: list[str]) -> list[str]:
    return [STREET_WORDS.get(w, w) for w in words]


_STREET_ALTERNATION = "|".join(sorted(_STREET_SUFFIXES | set(STREET_WORDS), key=len, reverse=True))
# "J Smith 14 High Street Birmingham": a number, then words ending in a street word, inside a line.
_INLINE_STREET = re.compile(rf"\b([0-9]+[A-Z]?)\s+((?:[A-Z]+\s+)*(?:{_STREET_ALTERNATION}))\b")


def _split_inline(line: str) -> list[str]:
    found = _INLINE_STREET.search(line)
    if not found or (found.start() == 0 and found.end() == len(line)):
        return [line]
    parts = [line[: found.start()], found.group(0), line[found.end() :]]
    return [part.strip() for part in parts if part.strip()]


def parse(raw: str, *, addressee: bool = True) -> Address:
    """Parse free text (lines separated by commas or newlines) into comparable parts.

    ``addressee``: the first line names a person (an envelope), not a building (a form).
    """
    if len(raw) > MAX_ADDRESS_LENGTH:
        raise NotAnAddress(f"is longer than {MAX_ADDRESS_LENGTH} characters")
    upper = raw.upper()
    postcode = normalise_postcode(upper)
    if postcode:
        # Remove the postcode however it was written, so its digits are not read as a house number.
        upper = _POSTCODE.sub(" ", upper)
    tenement_flat, upper = take_tenement_flat(upper)
    flat, lines = _flat_and_lines(_clean(spell_out_flat_before_building(upper)))
    flat = tenement_flat or flat
    building, street, street_at = _find_street(lines)
    if street_at is None:
        before, after = lines, []
    else:
        before, after = lines[:street_at], lines[street_at + 1 :]
        if building is None and len(before) >= (2 if addressee else 1):
            # Lines before the street: the addressee first (ignored), then a building name.
            candidate = before[-1]
            if not set(candidate.split()) & _TITLES:
                building = candidate
    town = after[-1] if after else None
    if postcode is None and street is None:
        raise NotAnAddress("needs a postcode or a street")
    return Address(postcode=postcode, building=building, flat=flat, street=street, town=town)


def _flat_and_lines(text: str) -> tuple[str | None, list[str]]:
    """The flat number taken out (it would read as a house number), then the address's lines,
    a street written inline with a building name split onto its own line."""
    flat = None
    found_flat = _FLAT.search(text)
    if found_flat:
        flat = found_flat.group(1)
        text = text[: found_flat.start()] + "," + text[found_flat.end() :]
    lines: list[str] = []
    for piece in re.split(r"[,\n]", text):
        line = re.sub(r"\s+", " ", piece).strip()
        if line:
            lines.extend(_split_inline(line))
    return flat, lines


def _find_street(lines: list[str]) -> tuple[str | None, str | None, int | None]:
    """The building number and street, and the line the street was found on: the first line
    that starts with a number, or that ends in a street word and names no person."""
    for index, line in enumerate(lines):
        number = _NUMBER.match(line)
        if number:
            building = number.group(1) + (number.group(2) or "")
            remainder = _expand(line[number.end() :].split())
            if remainder:
                return building, " ".join(remainder), index
            if index + 1 < len(lines):
                # "14" on one line and "High Street" on the next.
                return building, " ".join(_expand(lines[index + 1].split())), index + 1
            return building, None, index
        words = line.split()
        expanded = _expand(words)
        if expanded[-1] in _STREET_SUFFIXES and not set(words) & _TITLES:
            return None, " ".join(expanded), index
    return None, None, None


def from_lines(lines: list[str], postcode: str | None) -> Address:
    return parse("\n".join([*lines, postcode or ""]), addressee=False)


@dataclass(frozen=True)
class AddressMatch:
    score: float
    reasons: tuple[str, ...]


HOLD_THRESHOLD = 0.8


def compare(envelope: Address, barred: Address) -> AddressMatch:
    """How sure we are that ``envelope`` is the barred address (1.0 = the same door)."""
    reasons: list[str] = []
    score = 0.0
    same_postcode = bool(envelope.postcode and envelope.postcode == barred.postcode)
    same_street = bool(envelope.street and envelope.street == barred.street)
    same_building = bool(envelope.building and envelope.building == barred.building)
    if same_postcode:
        reasons.append("same postcode")
        score += 0.5
    elif same_street and envelope.town and envelope.town == barred.town:
        reasons.append("same street and town")
        score += 0.45
    elif same_street and envelope.postcode is None:
        reasons.append("same street")
        score += 0.35
    else:
        return AddressMatch(0.0, ())
    if same_building:
        reasons.append("same building")
        score += 0.4
    elif barred.building and envelope.building:
        return AddressMatch(round(score * 0.5, 2), (*reasons, "different building"))
    if barred.flat == envelope.flat:
        if barred.flat:
            reasons.append("same flat")
        score += 0.1
    elif barred.flat and envelope.flat is None:
        # Err on the side of the victim: "14 High Street" may well reach flat 2.
        reasons.append("flat not given")
        score += 0.0
    else:
        return AddressMatch(round(score * 0.5, 2), (*reasons, "different flat"))
    if same_street and not same_postcode:
        score += 0.05
    return AddressMatch(min(1.0, round(score, 2)), tuple(reasons))
