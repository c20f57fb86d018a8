"""What a match's confidence is made of, at its edges: the crime window's first and last second,
the padding's ends, and the distances where a fix stops lying wholly, then by its position, then
only by its accuracy within the radius; and the words a reviewer reads for each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pyproj import Geod

from vigil.evidence.match_confidence import read_confidence
from vigil.evidence.matching import (
    ConfidenceLabel,
    MatchParameters,
    PersonMatch,
    Scene,
    SpatialClass,
    TrackPoint,
    _spatial_class,
    match_scenes,
)

FROM = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
TO = datetime(2026, 11, 20, 21, 30, tzinfo=UTC)
SCENE = Scene("S", 52.4862, -1.8904, FROM, TO)
PARAMS = MatchParameters(radius_m=100.0)
_GEOD = Geod(ellps="WGS84")


def _at(metres_north: float) -> tuple[float, float]:
    lon, lat, _ = _GEOD.fwd(SCENE.lon, SCENE.lat, 0.0, metres_north)
    return lat, lon


def _match(when: datetime, metres: float = 0.0, accuracy: float | None = 5.0) -> PersonMatch | None:
    lat, lon = _at(metres)
    point = TrackPoint(1, "p", when, lat, lon, accuracy)
    found = match_scenes([SCENE], [point], PARAMS)["S"]
    return found[0] if found else None


@pytest.mark.parametrize(
    ("when", "confidence", "label"),
    [
        (FROM, 1.0, ConfidenceLabel.HIGH),
        (TO, 1.0, ConfidenceLabel.HIGH),
        (FROM - timedelta(seconds=1), 0.6, ConfidenceLabel.MEDIUM),
        (TO + timedelta(seconds=1), 0.6, ConfidenceLabel.MEDIUM),
        (FROM - PARAMS.padding_before, 0.6, ConfidenceLabel.MEDIUM),
        (TO + PARAMS.padding_after, 0.6, ConfidenceLabel.MEDIUM),
    ],
    ids=["window-start", "window-end", "1s-early", "1s-late", "padding-start", "padding-end"],
)
def test_the_window_edges_belong_to_the_window_and_the_padding_never_scores_high(
    when: datetime, confidence: float, label: ConfidenceLabel
) -> None:
    match = _match(when)
    assert match is not None
    assert (match.confidence, match.label) == (confidence, label)


@pytest.mark.parametrize("when", [FROM - PARAMS.padding_before, TO + PARAMS.padding_after])
def test_a_second_beyond_the_padding_places_nobody(when: datetime) -> None:
    step = timedelta(seconds=1) if when > TO else -timedelta(seconds=1)
    assert _match(when + step) is None


@pytest.mark.parametrize("accuracy", [None, 1.0, 30.0, 99.0, 250.0])
@pytest.mark.parametrize("metres", [0.0, 50.0, 99.0, 150.0])
@pytest.mark.parametrize(
    "when", [FROM - timedelta(seconds=1), TO + timedelta(seconds=1), FROM - timedelta(minutes=15)]
)
def test_a_fix_outside_the_crime_window_is_never_high(
    when: datetime, metres: float, accuracy: float | None
) -> None:
    match = _match(when, metres, accuracy)
    assert match is None or (match.label is not ConfidenceLabel.HIGH and match.confidence <= 0.6)


@pytest.mark.parametrize(
    ("distance", "accuracy", "spatial"),
    [
        (90.0, 10.0, SpatialClass.CERTAIN),  # the disc's edge on the radius
        (90.001, 10.0, SpatialClass.LIKELY),
        (100.0, 10.0, SpatialClass.LIKELY),  # the position on the radius
        (100.001, 10.0, SpatialClass.POSSIBLE),
        (110.0, 10.0, SpatialClass.POSSIBLE),  # only the disc's edge reaches the radius
    ],
)
def test_the_spatial_class_at_its_edges(
    distance: float, accuracy: float, spatial: SpatialClass
) -> None:
    assert _spatial_class(distance, accuracy, 100.0) is spatial


@pytest.mark.parametrize(
    ("metres", "confidence"),
    [(80.0, 1.0), (100.5, 0.4), (94.5, 0.7), (119.5, 0.4)],
)
def test_distance_and_accuracy_give_the_weight_inside_the_window(
    metres: float, confidence: float
) -> None:
    match = _match(FROM + timedelta(minutes=5), metres, 20.0)
    assert match is not None
    assert match.confidence == confidence


def test_beyond_the_radius_and_the_accuracy_nobody_is_placed() -> None:
    assert _match(FROM + timedelta(minutes=5), 120.5, 20.0) is None


def _stored(match: PersonMatch) -> dict[str, Any]:
    return {
        "fixes": [f.as_dict() for f in match.fixes],
        "window_from_utc": FROM,
        "window_to_utc": TO,
    }


def test_the_reading_names_distance_accuracy_and_time() -> None:
    match = _match(FROM + timedelta(minutes=5), 94.5, 20.0)
    assert match is not None
    reading = read_confidence(_stored(match), PARAMS.as_dict())
    assert reading.label is ConfidenceLabel.HIGH
    assert reading.value == 0.7
    assert reading.reasons[0] == (
        "Where: 94 m from the scene; its position is within the 100 m radius but its 20 m "
        "accuracy reaches beyond it (likely, × 0.7)."
    )
    assert reading.reasons[1] == "When: inside the crime window (× 1.0)."
    assert reading.text.startswith("High (0.70): Where:")


def test_the_reading_says_when_no_accuracy_was_reported_and_how_early_the_fix_was() -> None:
    match = _match(FROM - timedelta(minutes=10), 110.0, None)
    assert match is not None
    reading = read_confidence(_stored(match), PARAMS.as_dict())
    assert reading.label is ConfidenceLabel.LOW
    assert (
        "only the 30 m accuracy assumed when a device reports none reaches it"
        in (reading.reasons[0])
    )
    assert reading.reasons[1] == (
        "When: 10 min before the crime window began, in the padding (× 0.6)."
    )
    assert reading.reasons[2] == "1 fix reaches the radius, 0 inside the window."
