"""Device rules: allocation spans and IMEI check digits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vigil.devices.model import (
    DeviceType,
    HolderKind,
    Span,
    holder_kind_for,
    imei_with_check_digit,
    luhn_ok,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_open_allocation_overlaps_anything_later() -> None:
    assert Span(T0, None).overlaps(Span(T0 + timedelta(days=30), None))


def test_back_to_back_allocations_do_not_overlap() -> None:
    first = Span(T0, T0 + timedelta(days=1))
    assert not first.overlaps(Span(T0 + timedelta(days=1), None))
    assert first.overlaps(Span(T0 + timedelta(hours=23), None))


def test_span_covers_from_fitting_until_removal() -> None:
    span = Span(T0, T0 + timedelta(hours=1))
    assert span.covers(T0)
    assert not span.covers(T0 + timedelta(hours=1))
    assert not span.covers(T0 - timedelta(seconds=1))


def test_imei_check_digit_is_luhn() -> None:
    assert luhn_ok("490154203237518")  # a published example IMEI
    assert imei_with_check_digit("49015420323751") == "490154203237518"
    assert not luhn_ok("490154203237519")


def test_phones_and_watches_go_to_protected_persons() -> None:
    assert holder_kind_for(DeviceType.PROTECTED_PERSON_WATCH) is HolderKind.PROTECTED_PERSON
    assert holder_kind_for(DeviceType.GPS_TAG) is HolderKind.PERSON
