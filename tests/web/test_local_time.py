"""Times people read are local (Europe/London) with the zone's abbreviation."""

from __future__ import annotations

from datetime import UTC, datetime

from vigil.words import local_time


def test_a_stored_utc_time_reads_as_london_time_with_gmt_or_bst() -> None:
    winter = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
    assert local_time(winter) == "23 Nov 2026 09:00 GMT"
    assert local_time(summer) == "6 Jul 2026 10:00 BST"
    assert local_time(summer.isoformat(), "%H:%M %Z") == "10:00 BST"  # ISO text, as in JSON
    assert local_time(None) == ""
