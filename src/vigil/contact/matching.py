"""Finding the prisoner a requester means: people misspell names and swap day and month."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import jellyfish
from rapidfuzz import fuzz

NAME_THRESHOLD = 70.0


@dataclass(frozen=True)
class RegisteredPrisoner:
    id: int
    prison_number: str
    forenames: str
    surname: str
    aliases: tuple[str, ...]
    date_of_birth: date | None
    establishment: str | None
    release_date: date | None

    @property
    def full_name(self) -> str:
        return f"{self.forenames} {self.surname}".strip()


@dataclass(frozen=True)
class Candidate:
    prisoner: RegisteredPrisoner
    score: float
    reasons: tuple[str, ...]


def normalise_name(name: str) -> str:
    return re.sub(r"[^a-z ]+", " ", name.lower()).strip()


def phonetic_key(name: str) -> str:
    """Metaphone of each word, sorted, so word order and spelling variants agree."""
    words = normalise_name(name).split()
    return " ".join(sorted(jellyfish.metaphone(w) for w in words if w))


def dob_relation(asked: date | None, known: date | None) -> str | None:
    if asked is None or known is None:
        return None
    if asked == known:
        return "exact"
    if asked.year == known.year and asked.day == known.month and asked.month == known.day:
        return "transposed"
    return None


def score(
    prisoner: RegisteredPrisoner,
    *,
    name: str | None,
    date_of_birth: date | None,
    prison_number: str | None,
) -> Candidate | None:
    reasons: list[str] = []
    total = 0.0
    if prison_number and prison_number == prisoner.prison_number:
        reasons.append("exact prison number")
        total += 60
    if name:
        asked = normalise_name(name)
        best = 0.0
        best_name = prisoner.full_name
        for known in (prisoner.full_name, *prisoner.aliases):
            similarity = fuzz.token_sort_ratio(asked, normalise_name(known))
            if similarity > best:
                best, best_name = similarity, known
        if best >= NAME_THRESHOLD:
            alias = "" if best_name == prisoner.full_name else " (alias)"
            reasons.append(f"name {best:.0f}% similar{alias}")
            total += best * 0.3
        asked_key = phonetic_key(name)
        if asked_key and any(
            phonetic_key(known) == asked_key for known in (prisoner.full_name, *prisoner.aliases)
        ):
            reasons.append("name sounds the same")
            total += 10
    relation = dob_relation(date_of_birth, prisoner.date_of_birth)
    if relation == "exact":
        reasons.append("date of birth matches")
        total += 20
    elif relation == "transposed":
        reasons.append("date of birth matches with day and month swapped")
        total += 12
    if not reasons or (len(reasons) == 1 and reasons[0].startswith("date of birth")):
        # A date of birth alone picks out too many people to be a candidate.
        return None
    return Candidate(prisoner, round(min(total, 100.0), 1), tuple(reasons))


def rank(
    prisoners: Iterable[RegisteredPrisoner],
    *,
    name: str | None,
    date_of_birth: date | None,
    prison_number: str | None,
    limit: int = 10,
) -> list[Candidate]:
    found = [
        c
        for p in prisoners
        if (c := score(p, name=name, date_of_birth=date_of_birth, prison_number=prison_number))
    ]
    found.sort(key=lambda c: (-c.score, c.prisoner.prison_number))
    return found[:limit]
