"""Which prisoner-register entry and which matrix person a registry person is, and why.

An id both records hold decides at once: the same prison number, or the same police (PNC) id.
Otherwise a name and date of birth are compared by the rules the matrix links its own records by
(:func:`vigil.harm.resolution.pair_score`: close names in either order, the same date of birth,
day and month transposed, or one part off); a close enough likeness is proposed for a person to
confirm, never linked on its own. Candidates are blocked by date of birth (same year, or the same
day and month either way round), which is every pair the rules could score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from vigil.contact.matching import RegisteredPrisoner
from vigil.harm.model import split_name
from vigil.harm.positions import SuspectRecord
from vigil.harm.resolution import IdentityRecord, pair_score
from vigil.links.model import PROPOSE_FROM, LinkFound, LinkMethod, LinkTarget
from vigil.people.service import PersonView


@dataclass(frozen=True)
class _Written:
    """One way the other service wrote someone down, keyed by its own record's key."""

    key: str
    exact_id: str | None
    record: IdentityRecord


def _record(name: str, born: date | None) -> IdentityRecord:
    given, family = split_name(name)
    return IdentityRecord(0, None, given, family, born)


def _id(value: str | None) -> str | None:
    cleaned = (value or "").strip().upper()
    return cleaned or None


_PRISON_NUMBER = LinkMethod.PRISON_NUMBER
_POLICE_ID = LinkMethod.POLICE_ID
_EXACT_WORDS = {_PRISON_NUMBER: "the same prison number", _POLICE_ID: "the same police id"}


class _Blocks:
    """Written records by birth year and by day-and-month, both ways round."""

    def __init__(self, written: Iterable[_Written]) -> None:
        self.by_exact: dict[str, list[_Written]] = defaultdict(list)
        self.by_date: dict[tuple[str, int, int], list[_Written]] = defaultdict(list)
        for item in written:
            if item.exact_id:
                self.by_exact[item.exact_id].append(item)
            born = item.record.dob
            if born is not None:
                self.by_date[("year", born.year, 0)].append(item)
                self.by_date[("day", born.month, born.day)].append(item)

    def candidates(self, born: date) -> list[_Written]:
        seen: dict[int, _Written] = {}
        for key in (
            ("year", born.year, 0),
            ("day", born.month, born.day),
            ("day", born.day, born.month),
        ):
            for item in self.by_date.get(key, ()):
                seen[id(item)] = item
        return list(seen.values())


def prisoner_writings(prisoners: Sequence[RegisteredPrisoner]) -> _Blocks:
    written = []
    for prisoner in prisoners:
        for name in (prisoner.full_name, *prisoner.aliases):
            written.append(
                _Written(
                    prisoner.prison_number,
                    _id(prisoner.prison_number),
                    _record(name, prisoner.date_of_birth),
                )
            )
    return _Blocks(written)


def suspect_writings(suspects: Sequence[SuspectRecord]) -> _Blocks:
    return _Blocks(
        _Written(s.person_key, _id(s.police_id), _record(s.name, s.date_of_birth)) for s in suspects
    )


def find_links(person: PersonView, prisoners: _Blocks, suspects: _Blocks) -> list[LinkFound]:
    """The person's links to the register and the matrix: an exact one where an id matches,
    else the best likeness of each record close enough to propose."""
    return [
        *_find(
            person, LinkTarget.PRISONER, prisoners, person.prison_number, LinkMethod.PRISON_NUMBER
        ),
        *_find(person, LinkTarget.MATRIX, suspects, person.pnc_id, LinkMethod.POLICE_ID),
    ]


def _find(
    person: PersonView,
    target: LinkTarget,
    blocks: _Blocks,
    exact_id: str | None,
    method: LinkMethod,
) -> list[LinkFound]:
    wanted = _id(exact_id)
    if wanted and wanted in blocks.by_exact:
        keys = dict.fromkeys(item.key for item in blocks.by_exact[wanted])
        words = (
            "the same prison number" if method is LinkMethod.PRISON_NUMBER else "the same police id"
        )
        return [LinkFound(person.id, target, key, method, 1.0, words) for key in keys]
    mine = [_record(name, person.date_of_birth) for name in (person.full_name, *person.aliases)]
    best: dict[str, tuple[float, str]] = {}
    for item in blocks.candidates(person.date_of_birth):
        if wanted and item.exact_id and item.exact_id != wanted:
            continue  # both hold an id of that kind and they differ: not the same man
        for record in mine:
            score, words = pair_score(record, item.record)
            if score >= PROPOSE_FROM and score > best.get(item.key, (0.0, ""))[0]:
                best[item.key] = (score, words)
    return [
        LinkFound(person.id, target, key, LinkMethod.NAME_AND_DATE_OF_BIRTH, score, words)
        for key, (score, words) in sorted(best.items(), key=lambda kv: -kv[1][0])
    ]
