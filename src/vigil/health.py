"""Heartbeats: background loops say they are still turning, so readiness can tell a stuck engine
from a quiet one, and how long their work takes, so an operator sees an engine falling behind
before its partitions' backlog does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class WorkDone:
    """A loop's units of work (an engine's batches) since the process started, and their time."""

    count: int = 0
    seconds: float = 0.0


@dataclass
class Heartbeats:
    last: dict[str, datetime] = field(default_factory=dict)
    work: dict[str, WorkDone] = field(default_factory=dict)

    def beat(self, loop: str, at: datetime) -> None:
        self.last[loop] = at

    def worked(self, loop: str, seconds: float) -> None:
        done = self.work.setdefault(loop, WorkDone())
        done.count += 1
        done.seconds += seconds

    def ages_s(self, now: datetime) -> dict[str, float]:
        return {loop: (now - at).total_seconds() for loop, at in self.last.items()}
