"""Every device a plan names: wearers' tags (with their person's index) and protected persons'
own devices (person -1), numbered in the order the plan names them."""

from __future__ import annotations

import numpy as np

from vigil.engine.batch import IntArray


class DeviceDirectory:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []
        self.person: list[int] = []
        self._lookup_cache: tuple[list[str], int, IntArray] | None = None

    def add(self, name: str, person: int) -> None:
        if name not in self.index:
            self.index[name] = len(self.names)
            self.names.append(name)
            self.person.append(person)

    def person_array(self) -> IntArray:
        """The person of each device index, with -1 for the "unknown device" slot at the end."""
        return np.append(np.asarray(self.person, dtype=np.int64), -1)

    def lookup(self, names: list[str]) -> IntArray:
        """Batch device codes to device indices (cached: callers reuse one name list)."""
        cached = self._lookup_cache
        if cached is not None and cached[0] is names and cached[1] == len(names):
            return cached[2]
        lookup = np.array([self.index.get(name, -1) for name in names] + [-1], dtype=np.int64)
        self._lookup_cache = (names, len(names), lookup)
        return lookup
