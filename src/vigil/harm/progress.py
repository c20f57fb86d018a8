"""How a long harm use case reports its stages (the CLI shows them; others stay silent)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]


def silent(_stage: str) -> None:
    return None
