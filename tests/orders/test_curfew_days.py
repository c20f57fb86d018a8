"""The curfew editor's day rows group into timetable rows and copy one day to all."""

from __future__ import annotations

import pytest

from vigil.orders.curfew_days import DAY_NAMES, copy_day_to_all, days_from_rows, rows_from_days


def test_curfew_days_group_into_timetable_rows_and_copy_to_all() -> None:
    days: dict[str, tuple[str, str] | None] = dict.fromkeys(DAY_NAMES)
    days.update(mon=("19:00", "07:00"), tue=("19:00", "07:00"), sat=("21:00", "08:00"))
    rows = rows_from_days(days)
    assert rows == [
        {"days": ["mon", "tue"], "start": "19:00", "end": "07:00"},
        {"days": ["sat"], "start": "21:00", "end": "08:00"},
    ]
    assert days_from_rows(rows) == days
    copied = copy_day_to_all(days, "sat")
    assert set(copied.values()) == {("21:00", "08:00")}
    with pytest.raises(ValueError, match="copy_from"):
        copy_day_to_all(days, "someday")
