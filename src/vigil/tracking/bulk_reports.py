"""The one-row-per-report key of a bulk load, kept in memory while the unique index is away.

Each stored report is remembered as a 64-bit mix of its device, fix time and frame key, with
its row id, in a few sorted arrays (merged as they grow, so a batch searches a handful): 16
bytes a fix and no Python object per fix. The mix only finds candidates: a fix is a resend only
when the stored row's device, time and key are its own. If two reports ever mix to the same
value (about one load in 10^8 at a million fixes), the row the mix points at is not this fix's,
and the store is searched by its columns instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, text

# Odd multipliers spread each part over all 64 bits before they are mixed.
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))
_ROW = text("SELECT device_id, fix_time, frame_key FROM fixes WHERE id = :id")
_FIND = text("SELECT min(id) FROM fixes WHERE fix_time = :t AND device_id = :d AND frame_key = :k")

Level = tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]


def _mix(
    devices: Sequence[str], times: npt.NDArray[np.int64], keys: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint64]:
    device_hashes = np.fromiter((hash(d) for d in devices), dtype=np.int64, count=len(devices))
    with np.errstate(over="ignore"):
        mixed: npt.NDArray[np.uint64] = (
            (keys.view(np.uint64) * _MIX[0])
            ^ (times.astype(np.int64).view(np.uint64) * _MIX[1])
            ^ (device_hashes.view(np.uint64) * _MIX[2])
        )
    return mixed


class Reports:
    """Reports stored so far in one bulk load, and which of a batch are new."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.levels: list[Level] = []
        self._pending: tuple[npt.NDArray[np.uint64], npt.NDArray[np.intp]] = (
            np.empty(0, dtype=np.uint64),
            np.empty(0, dtype=np.intp),
        )

    def sort_out(
        self, devices: Sequence[str], times: npt.NDArray[np.int64], keys: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
        """Ids so far (a stored report's id; -(i + 1) for a copy of input i; 0 for a new fix)
        and the input indexes of the new fixes, each report once, in input order."""
        mixed = _mix(devices, times, keys)
        ids = np.zeros(len(mixed), dtype=np.int64)
        # Searched in sorted order: each level is then read front to back, not at random.
        order = np.argsort(mixed, kind="stable")
        ranked = mixed[order]
        for values, row_ids in self.levels:
            at = np.minimum(np.searchsorted(values, ranked), len(values) - 1)
            for rank in np.flatnonzero(values[at] == ranked).tolist():
                index = int(order[rank])
                report = (devices[index], int(times[index]), int(keys[index]))
                ids[index] = self._stored_id(report, int(row_ids[at[rank]]))
        same = np.flatnonzero(ranked[1:] == ranked[:-1])  # rank k mixes like rank k + 1
        for run in np.split(same, np.flatnonzero(np.diff(same) != 1) + 1) if same.size else ():
            # One mix, several inputs (in input order: the sort is stable): copies of each other,
            # unless two reports share the mix.
            firsts: list[tuple[tuple[str, int, int], int]] = []
            for index in order[run[0] : run[-1] + 2].tolist():
                if ids[index] != 0:
                    continue  # a resend of a stored row
                report = (devices[index], int(times[index]), int(keys[index]))
                first = next((i for r, i in firsts if r == report), None)
                if first is None:
                    firsts.append((report, index))
                else:
                    ids[index] = -(first + 1)
        fresh = ids[order] == 0
        self._pending = (ranked[fresh], order[fresh])  # the new fixes' mixes, sorted
        return ids, np.flatnonzero(ids == 0)

    def _stored_id(self, report: tuple[str, int, int], candidate: int) -> int:
        row = self.connection.execute(_ROW, {"id": candidate}).one()
        if (row.device_id, int(row.fix_time), int(row.frame_key)) == report:
            return candidate
        # Two reports with one mix: search the (unindexed) store for this one. Rare by design.
        found = self.connection.execute(_FIND, dict(zip("dtk", report, strict=True))).scalar()
        return 0 if found is None else int(found)

    def stored(
        self,
        ids: npt.NDArray[np.int64],
        new: npt.NDArray[np.intp],
        stored_ids: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.int64]:
        """Record the new fixes' row ids; returns every input's id."""
        ids[new] = stored_ids
        copies = np.flatnonzero(ids < 0)
        ids[copies] = ids[-ids[copies] - 1]
        mixes, inputs = self._pending
        self.levels.append((mixes, ids[inputs]))
        # Merge while a level is not at least twice the next: a few levels to search, and each
        # fix is merged about log2(levels) times.
        while len(self.levels) > 1 and len(self.levels[-2][0]) < 2 * len(self.levels[-1][0]):
            (upper, upper_ids), (lower, lower_ids) = self.levels.pop(), self.levels.pop()
            values = np.concatenate((lower, upper))
            row_ids = np.concatenate((lower_ids, upper_ids))
            order = np.argsort(values, kind="stable")
            self.levels.append((values[order], row_ids[order]))
        return ids
