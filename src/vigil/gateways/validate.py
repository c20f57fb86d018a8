"""Checks every decoded fix must pass before it is published, whatever the protocol."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from vigil.text import text_problem
from vigil.tracking.model import Fix

# A device clock this far ahead is wrong (often a local-time clock sent as UTC); evaluating
# conditions at a future fix time would misplace the wearer in time.
MAX_FUTURE = timedelta(hours=1)
# Before satellite tags were in use here; usually a GPS week-number rollover or a zeroed clock.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


# The trail store's device column; longer ids are not ids any tag sends.
MAX_DEVICE_ID = 64


def problem(fix: Fix) -> str | None:
    """The reason a fix must be rejected, or None when it may be published."""
    if not fix.device_id or text_problem(fix.device_id, max_length=MAX_DEVICE_ID):
        return "bad_device_id"
    if fix.lat is not None and fix.lon is not None:
        if not (math.isfinite(fix.lat) and math.isfinite(fix.lon)):
            return "bad_coordinates"
        if not (-90.0 <= fix.lat <= 90.0 and -180.0 <= fix.lon <= 180.0):
            return "bad_coordinates"
    if fix.accuracy_m is not None and (not math.isfinite(fix.accuracy_m) or fix.accuracy_m < 0):
        return "bad_accuracy"
    if fix.fix_time > fix.receive_time + MAX_FUTURE:
        return "future_time"
    if fix.fix_time < EARLIEST:
        return "bad_time"
    return None
