"""Heartbeats: background loops say they are still turning, so readiness can tell a stuck engine
from a quiet one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Heartbeats:
    last: dict[str, datetime] = field(default_factory=dict)

    def beat(self, loop: str, at: datetime) -> None:
        self.last[loop] = at

    def ages_s(self, now: datetime) -> dict[str, float]:
        return {loop: (now - at).total_seconds() for loop, at in self.last.items()}
