"""Force area boundaries: the ONS file's forces matched to Vigil's by name, others skipped, and a
file that is not what it should be refused whole."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.conftest import FIXTURES
from vigil.bootstrap import Container
from vigil.errors import ValidationError
from vigil.people import force_boundaries, reference_data
from vigil.people.tables import force_area_boundaries

OUTLINE = FIXTURES / "boundaries" / "force-areas-outline.geojson"


def _load(container: Container, content: bytes) -> force_boundaries.LoadReport:
    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
        report = force_boundaries.load(
            uow, content, source="file.geojson", name_property="PFA23NM", actor="test"
        )
        uow.commit()
    return report


def _stored(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(force_area_boundaries)).scalar())


def test_the_pilot_forces_are_loaded_and_the_others_skipped(container: Container) -> None:
    report = _load(container, OUTLINE.read_bytes())
    assert report.loaded == ["LEI", "WMP"]
    assert report.skipped == ["Kent"]
    with container.uow() as uow:
        leicestershire = force_boundaries.boundary_of(uow, "LEI")
        assert force_boundaries.boundary_of(uow, "NOT") is None
    assert leicestershire is not None
    assert leicestershire.holds(52.6369, -1.1398)  # Leicester
    assert not leicestershire.holds(52.4068, -1.5197)  # Coventry
    assert not leicestershire.holds(float("nan"), -1.1398)
    # Loading again replaces, never duplicates.
    _load(container, OUTLINE.read_bytes())
    assert _stored(container) == 2


@pytest.mark.parametrize(
    ("ons_name", "code"),
    [
        ("West Midlands", "WMP"),
        ("Metropolitan Police", "MPS"),
        ("London, City of", "COL"),
        ("Derbyshire", "DER"),
        ("West Mercia", "WMC"),
        ("Kent", None),
    ],
)
def test_ons_names_are_matched_to_vigils_force_areas(ons_name: str, code: str | None) -> None:
    found = force_boundaries.force_named(ons_name)
    assert (found.code if found else None) == code


def _collection(geometry: object) -> bytes:
    feature = {"type": "Feature", "properties": {"PFA23NM": "West Midlands"}, "geometry": geometry}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"\xff\xfe",
        b'{"type": "Feature"}',
        b'{"type": "FeatureCollection", "features": {}}',
        b'{"type": "FeatureCollection", "features": [{"properties": {}}]}',
        _collection({"type": "Point", "coordinates": [-1.9, 52.5]}),
        _collection({"type": "Polygon", "coordinates": "nonsense"}),
        # British National Grid metres instead of longitude and latitude.
        _collection(
            {
                "type": "Polygon",
                "coordinates": [
                    [[400000, 280000], [410000, 280000], [410000, 290000], [400000, 280000]]
                ],
            }
        ),
    ],
    ids=[
        "text",
        "not utf-8",
        "a feature",
        "features not a list",
        "no name",
        "a point",
        "bad coordinates",
        "grid metres",
    ],
)
def test_a_file_that_is_not_force_boundaries_is_refused_whole(
    container: Container, content: bytes
) -> None:
    good = json.loads(OUTLINE.read_text())
    bad = json.loads(content) if content.startswith(b'{"type": "FeatureCollection"') else None
    mixed = (
        json.dumps({**good, "features": good["features"] + bad["features"]}).encode()
        if bad and isinstance(bad.get("features"), list)
        else content
    )
    with pytest.raises(ValidationError) as refused:
        _load(container, mixed)
    assert refused.value.field == "file"
    assert _stored(container) == 0
