"""Order and condition rules: each failing case names the field and says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vigil.errors import ErrorCollector, ValidationError
from vigil.orders.model import OrderDraft, OrderStatus, VersionKind, status_at
from vigil.orders.rules import condition_json, order_conditions_json

START = datetime(2026, 3, 1, tzinfo=UTC)
HOME = {"type": "Point", "coordinates": [-1.8904, 52.4862]}


def curfew(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "curfew",
        "geometry": HOME,
        "radius_m": 60,
        "timetable": [{"days": ["mon", "tue"], "start": "19:00", "end": "07:00"}],
        "grace_s": 300,
    }
    return {**base, **overrides}


def errors_of(raw: Any) -> dict[str, str]:
    errors = ErrorCollector()
    condition_json(raw, "conditions[0]", errors)
    return {e.field: e.reason for e in errors.errors}


def order_errors(**overrides: Any) -> dict[str, str]:
    values: dict[str, Any] = {
        "person_id": 1,
        "pilot": "da_licence",
        "starts_at": START,
        "ends_at": START + timedelta(days=180),
        "responsible_officer_id": None,
        "conditions": [curfew()],
    }
    values.update(overrides)
    errors = ErrorCollector()
    order_conditions_json(OrderDraft(**values), errors)
    return {e.field: e.reason for e in errors.errors}


def test_a_sound_order_has_no_errors() -> None:
    assert order_errors() == {}


def test_end_before_start_names_ends_at() -> None:
    found = order_errors(ends_at=START - timedelta(days=1))
    assert found == {"ends_at": "must be after starts_at"}


def test_naive_start_is_refused_by_name() -> None:
    assert "starts_at" in order_errors(starts_at=datetime(2026, 3, 1))


def test_an_order_needs_at_least_one_condition() -> None:
    assert order_errors(conditions=[]) == {"conditions": "an order needs at least one condition"}


def test_unknown_pilot_is_named() -> None:
    assert "pilot" in order_errors(pilot="speeding")


def test_overnight_curfew_row_is_well_formed() -> None:
    errors = ErrorCollector()
    parsed = condition_json(curfew(), "conditions[0]", errors)
    assert errors.errors == []
    assert parsed is not None
    assert parsed["timetable"] == [{"days": ["mon", "tue"], "start": "19:00", "end": "07:00"}]


def test_curfew_time_must_be_hh_mm() -> None:
    found = errors_of(curfew(timetable=[{"days": ["mon"], "start": "7pm", "end": "07:00"}]))
    assert "conditions[0].timetable[0].start" in found


def test_curfew_window_cannot_be_empty() -> None:
    found = errors_of(curfew(timetable=[{"days": ["mon"], "start": "19:00", "end": "19:00"}]))
    assert found["conditions[0].timetable[0].end"].startswith("must differ from start")


def test_unknown_day_is_named() -> None:
    found = errors_of(curfew(timetable=[{"days": ["funday"], "start": "19:00", "end": "07:00"}]))
    assert "funday" in found["conditions[0].timetable[0].days"]


def test_overlapping_rows_are_refused_including_across_midnight() -> None:
    rows = [
        {"days": ["mon"], "start": "19:00", "end": "07:00"},
        {"days": ["tue"], "start": "06:00", "end": "08:00"},
    ]
    found = errors_of(curfew(timetable=rows))
    assert found == {"conditions[0].timetable[1]": "overlaps row 0"}


def test_sunday_night_overlaps_monday_morning() -> None:
    rows = [
        {"days": ["sun"], "start": "20:00", "end": "08:00"},
        {"days": ["mon"], "start": "07:00", "end": "09:00"},
    ]
    assert "conditions[0].timetable[1]" in errors_of(curfew(timetable=rows))


def test_curfew_needs_a_timetable() -> None:
    assert "conditions[0].timetable" in errors_of(curfew(timetable=[]))


def test_point_zone_needs_a_radius() -> None:
    found = errors_of({"type": "exclusion_zone", "geometry": HOME})
    assert found == {"conditions[0].radius_m": "a Point zone needs a radius in metres"}


def test_radius_must_be_sane() -> None:
    found = errors_of({"type": "exclusion_zone", "geometry": HOME, "radius_m": 90_000})
    assert "between 10 and 20000" in found["conditions[0].radius_m"]


def test_latitude_out_of_range_is_named() -> None:
    geometry = {"type": "Point", "coordinates": [52.48, -191.0]}
    found = errors_of({"type": "exclusion_zone", "geometry": geometry, "radius_m": 100})
    assert "longitude" in found["conditions[0].geometry.coordinates"]


def test_polygon_ring_must_be_closed() -> None:
    ring = [[-1.90, 52.40], [-1.80, 52.40], [-1.80, 52.50], [-1.85, 52.45]]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    found = errors_of({"type": "exclusion_zone", "geometry": geometry})
    assert "closed" in found["conditions[0].geometry.coordinates[0]"]


def test_self_intersecting_polygon_is_not_valid() -> None:
    bowtie = [[-1.90, 52.40], [-1.80, 52.50], [-1.80, 52.40], [-1.90, 52.50], [-1.90, 52.40]]
    geometry = {"type": "Polygon", "coordinates": [bowtie]}
    found = errors_of({"type": "exclusion_zone", "geometry": geometry})
    assert "not a valid shape" in found["conditions[0].geometry"]


def test_polygon_the_size_of_a_region_is_too_large() -> None:
    ring = [[-3.0, 52.0], [-1.0, 52.0], [-1.0, 53.0], [-3.0, 53.0], [-3.0, 52.0]]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    found = errors_of({"type": "inclusion_zone", "geometry": geometry})
    assert "too large" in found["conditions[0].geometry"]


def test_polygon_with_hole_and_buffer_is_accepted() -> None:
    outer = [[-1.90, 52.40], [-1.80, 52.40], [-1.80, 52.50], [-1.90, 52.40]]
    hole = [[-1.82, 52.42], [-1.81, 52.42], [-1.81, 52.44], [-1.82, 52.42]]
    raw = {
        "type": "exclusion_zone",
        "geometry": {"type": "Polygon", "coordinates": [outer, hole]},
        "buffer_m": 200,
        "timetable": [{"days": ["sat", "sun"], "start": "08:00", "end": "20:00"}],
    }
    errors = ErrorCollector()
    parsed = condition_json(raw, "conditions[0]", errors)
    assert errors.errors == []
    assert parsed is not None
    assert parsed["buffer_m"] == 200.0


def test_polygon_zone_cannot_also_have_a_radius() -> None:
    ring = [[-1.90, 52.40], [-1.80, 52.40], [-1.80, 52.50], [-1.90, 52.40]]
    raw = {"type": "exclusion_zone", "geometry": {"type": "Polygon", "coordinates": [ring]}}
    assert "conditions[0].radius_m" in errors_of({**raw, "radius_m": 100})


def test_negative_buffer_is_named() -> None:
    found = errors_of({"type": "exclusion_zone", "geometry": HOME, "radius_m": 100, "buffer_m": -5})
    assert "conditions[0].buffer_m" in found


def test_proximity_needs_a_protected_person_and_distance() -> None:
    found = errors_of({"type": "proximity"})
    assert set(found) == {"conditions[0].protected_person_id", "conditions[0].distance_m"}


def test_proximity_exit_distance_must_not_be_smaller() -> None:
    raw = {"type": "proximity", "protected_person_id": 3, "distance_m": 500, "exit_distance_m": 400}
    assert "conditions[0].exit_distance_m" in errors_of(raw)


def test_alcohol_level_needs_a_threshold() -> None:
    assert "conditions[0].threshold_mg_per_100ml" in errors_of({"type": "alcohol", "mode": "level"})
    assert errors_of({"type": "alcohol", "mode": "abstinence"}) == {}


def test_unknown_condition_type_and_fields_are_named() -> None:
    assert "conditions[0].type" in errors_of({"type": "teleport"})
    assert "conditions[0]" in errors_of({"type": "trail", "colour": "red"})


def test_validation_error_carries_every_problem() -> None:
    errors = ErrorCollector()
    order_conditions_json(
        OrderDraft(1, "x", START, START - timedelta(days=1), None, [{"type": "proximity"}]),
        errors,
    )
    with pytest.raises(ValidationError) as caught:
        errors.raise_if_any()
    fields = {e.field for e in caught.value.errors}
    assert {"pilot", "ends_at", "conditions[0].distance_m"} <= fields


@pytest.mark.parametrize(
    ("at", "kind", "expected"),
    [
        (START - timedelta(days=1), VersionKind.REQUEST, OrderStatus.PENDING),
        (START + timedelta(days=1), VersionKind.REQUEST, OrderStatus.ACTIVE),
        (START + timedelta(days=1), VersionKind.VARIATION, OrderStatus.ACTIVE),
        (START + timedelta(days=200), VersionKind.REQUEST, OrderStatus.ENDED),
        (START + timedelta(days=1), VersionKind.REVOCATION, OrderStatus.REVOKED),
        (START + timedelta(days=1), VersionKind.END_OF_MONITORING, OrderStatus.ENDED),
        (START + timedelta(days=1), None, OrderStatus.PENDING),
    ],
)
def test_status_follows_dates_and_the_version_in_force(
    at: datetime, kind: VersionKind | None, expected: OrderStatus
) -> None:
    assert status_at(at, START, START + timedelta(days=180), kind) is expected
