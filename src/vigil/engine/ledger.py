"""The ledger of episodes the engine has raised: stable ids, no duplicates, never deleted.

A state machine that re-discovers an episode (after a late fix rewound its person, or after a
restart) finds it here and changes nothing, or only moves its start/end, under the same id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigil.engine.events import EngineEvent, EventKind, EventPhase

# Kinds that are a moment, not an interval: they only match an earlier raise at the same start.
INSTANT_KINDS = frozenset(
    {EventKind.APPROACH_WARNING, EventKind.STRAP_REMOVED, EventKind.TAMPER, EventKind.SOS}
)
SAME_START_S = 1.0


def to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return to_datetime(round(seconds, 3)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def episode_id(person: str, subject: str, kind: str, start: float) -> str:
    """Stable identity: the same person, condition (or device), kind and start give the same id."""
    text = f"{person}|{subject}|{kind}|{iso(start)}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass
class Episode:
    id: str
    person: str
    condition: str | None
    kind: EventKind
    start: float
    end: float | None
    raised_at: float
    retrospective: bool
    device: str | None = None
    fix_ids: list[int] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The EVENTS.jsonl line."""
        record: dict[str, Any] = {
            "person": self.person,
            "condition": self.condition,
            "kind": self.kind.value,
            "start": iso(self.start),
            "end": iso(self.end),
            "raised_at": iso(self.raised_at),
            "retrospective": self.retrospective,
            "id": self.id,
        }
        if self.device is not None:
            record["device"] = self.device
        if self.fix_ids:
            record["fix_ids"] = list(self.fix_ids)
        if self.detail:
            record["detail"] = self.detail
        return record


class Ledger:
    def __init__(self, late_after_s: float, lookahead_s: float = 300.0) -> None:
        self.late_after_s = late_after_s
        # A machine re-discovering an episode may confirm it before the start raised earlier;
        # the episode it is opening will run on at least this long, so they are the same one.
        self.lookahead_s = lookahead_s
        self.episodes: list[Episode] = []
        self.events: list[EngineEvent] = []
        self._by_key: dict[tuple[str, str, EventKind], list[int]] = {}
        self._by_id: dict[str, int] = {}

    def _event(self, episode: Episode, phase: EventPhase, raised_at: float) -> None:
        self.events.append(
            EngineEvent(
                episode_id=episode.id,
                person_id=episode.person,
                condition_id=episode.condition,
                kind=episode.kind,
                phase=phase,
                start=to_datetime(episode.start),
                end=None if episode.end is None else to_datetime(episode.end),
                raised_at=to_datetime(raised_at),
                retrospective=episode.retrospective,
                device_id=episode.device,
                fix_ids=tuple(episode.fix_ids),
                detail=dict(episode.detail),
            )
        )

    def _match(self, key: tuple[str, str, EventKind], start: float, seen_until: float) -> int:
        for index in reversed(self._by_key.get(key, ())):
            episode = self.episodes[index]
            if abs(episode.start - start) <= SAME_START_S:
                return index
            if key[2] in INSTANT_KINDS:
                continue
            if episode.end is None:
                # A machine opens an episode only when it has none open: an open one with the
                # same key is this one, found again after a rewind or a restart.
                return index
            overlaps = (
                episode.start <= seen_until + self.lookahead_s
                and episode.end >= start - SAME_START_S
            )
            if overlaps:
                return index
        return -1

    def open(
        self,
        *,
        person: str,
        condition: str | None,
        kind: EventKind,
        start: float,
        trigger: float,
        raised_at: float,
        fix_ids: list[int] | None = None,
        device: str | None = None,
        detail: dict[str, Any] | None = None,
        end: float | None = None,
    ) -> int:
        """Raise an episode, or find the one already raised for it. Returns its ledger index.

        ``trigger`` is the fix or timer time that confirmed it; raised later than ``late_after_s``
        after that, it is retrospective.
        """
        key = (person, condition or device or "", kind)
        found = self._match(key, start, max(trigger, end or trigger))
        if found >= 0:
            episode = self.episodes[found]
            if start < episode.start - SAME_START_S and kind not in INSTANT_KINDS:
                episode.start = start
                self._event(episode, EventPhase.UPDATED, raised_at)
            return found
        episode = Episode(
            id=episode_id(person, key[1], kind.value, start),
            person=person,
            condition=condition,
            kind=kind,
            start=start,
            end=end,
            raised_at=raised_at,
            retrospective=raised_at - trigger > self.late_after_s,
            device=device,
            fix_ids=list(fix_ids or ()),
            detail=dict(detail or {}),
        )
        self.episodes.append(episode)
        self._by_key.setdefault(key, []).append(len(self.episodes) - 1)
        self._by_id[episode.id] = len(self.episodes) - 1
        self._event(episode, EventPhase.STARTED, raised_at)
        if end is not None:
            self._event(episode, EventPhase.ENDED, raised_at)
        return len(self.episodes) - 1

    def close(
        self, index: int, end: float, raised_at: float, fix_ids: list[int] | None = None
    ) -> None:
        episode = self.episodes[index]
        end = max(end, episode.start)
        if episode.end is not None and abs(episode.end - end) <= SAME_START_S:
            return
        phase = EventPhase.ENDED if episode.end is None else EventPhase.UPDATED
        episode.end = end
        if fix_ids:
            episode.fix_ids.extend(i for i in fix_ids if i not in episode.fix_ids)
        self._event(episode, phase, raised_at)

    def restore(self, episode: Episode) -> int:
        """Put back an episode stored before a restart, so it is matched, not raised again."""
        key = (episode.person, episode.condition or episode.device or "", episode.kind)
        if episode.id in self._by_id:
            return self._by_id[episode.id]
        self.episodes.append(episode)
        self._by_key.setdefault(key, []).append(len(self.episodes) - 1)
        self._by_id[episode.id] = len(self.episodes) - 1
        return len(self.episodes) - 1

    def open_indices(self, person: str, subject: str, kind: EventKind) -> list[int]:
        return [
            index
            for index in self._by_key.get((person, subject, kind), ())
            if self.episodes[index].end is None
        ]

    def withdraw(self, index: int, raised_at: float) -> None:
        """End an episode the evidence no longer supports at its own start, saying so."""
        episode = self.episodes[index]
        episode.detail["withdrawn"] = True
        episode.end = episode.start
        self._event(episode, EventPhase.ENDED, raised_at)

    def index_of(self, episode_id: str) -> int:
        return self._by_id.get(episode_id, -1)

    def ref(self, index: int) -> str | None:
        """How stored state names an episode (its id), or None for "no episode" (-1)."""
        return self.episodes[index].id if index >= 0 else None

    def find(self, ref: object) -> int:
        """The episode stored state named, or -1 when it names none (or one not in the ledger)."""
        return self.index_of(ref) if isinstance(ref, str) else -1

    def drain(self) -> list[EngineEvent]:
        events, self.events = self.events, []
        return events
