"""Crime matching end to end on the real trail store (SQLite and PostgreSQL): upload, run, review,
export — with the Liverpool buses stored as wearers' fixes."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from tests.evidence.test_matching import CRIMES as MERSEYSIDE
from tests.evidence.test_matching import brute_force, crime_batch_near, load_bus_fixes
from vigil.bootstrap import Container
from vigil.errors import NotFound, ValidationError
from vigil.evidence import crime_matching, crime_upload
from vigil.evidence.matching import MatchParameters
from vigil.security.model import PermissionDenied, Principal, Role
from vigil.security.tables import audit_log
from vigil.tracking import store
from vigil.tracking.model import Fix

POLICE = Principal(id=11, name="pc.mersey", role=Role.POLICE, force_area="MER")
OTHER_POLICE = Principal(id=12, name="pc.wmp", role=Role.POLICE, force_area="WMP")
ANALYST = Principal(id=13, name="analyst", role=Role.ANALYST)
OFFICER = Principal(id=14, name="officer", role=Role.PROBATION_OFFICER, team_id=1)


def store_buses(container: Container) -> dict[int, int]:
    """Append the bus fixes as wearers' fixes; returns source id → stored fix id."""
    points = load_bus_fixes()
    fixes = [
        Fix(
            device_id=f"dev-{p.person_id}",
            fix_time=p.time,
            receive_time=p.time,
            lat=p.lat,
            lon=p.lon,
            protocol="osmand",
            accuracy_m=p.accuracy_m,
            raw=f"id={p.fix_id}",
        )
        for p in points
    ]
    with container.uow() as uow:
        ids = store.append(uow, fixes, [p.person_id for p in points])
        uow.commit()
    return {p.fix_id: stored for p, stored in zip(points, ids, strict=True)}


def headed_sample(rows: int = 60) -> str:
    text = crime_batch_near(load_bus_fixes())
    lines = text.splitlines()
    # Every 40th crime near the route: a spread along it, small enough for a quick test.
    return "\n".join([lines[0], *lines[1::40][:rows]]) + "\n"


def test_police_upload_match_review_and_export_only_confirmed(container: Container) -> None:
    id_map = store_buses(container)
    text = headed_sample() + "BAD-1,Drugs,2026-01-26 16:00,2026-01-26 15:00,53.4,-2.9\n"
    with container.uow() as uow:
        summary = crime_upload.upload_batch(
            uow, POLICE, text, filename="route14.csv", reason="Operation Route 14 checks"
        )
        uow.commit()
    assert summary.accepted == 60
    assert [(e.field, "from after to" in e.reason) for e in summary.errors] == [("to", True)]

    # The buses are no registry person, so no police user has them in scope: the analyst's
    # nationwide run finds them (test_crime_matching_scope covers what police see).
    params = MatchParameters(radius_m=120.0)
    with container.uow() as uow:
        run_id = crime_matching.run_matching(uow, ANALYST, summary.id, params, "Weekly crime match")
        uow.commit()
    with container.uow() as uow:
        run = crime_matching.get_run(uow, ANALYST, run_id, "Reviewing the weekly results")
        uow.commit()
    assert run["algorithm_version"].startswith("vigil-crime-match/")
    assert run["parameters"]["radius_m"] == 120.0

    # The stored-data result agrees with the brute force over the same real fixes.
    from vigil.evidence.crime_parsing import parse_crimes

    points = load_bus_fixes()
    expected = set()
    for crime in parse_crimes(headed_sample()).crimes:
        for person, (_closest, fixes) in brute_force(crime, points, params).items():
            expected.add((crime.reference, person, frozenset(id_map[f] for f, _ in fixes)))
    got = {
        (r["crime_reference"], r["person_id"], frozenset(f["fix_id"] for f in r["fixes"]))
        for r in run["results"]
    }
    assert got == expected
    assert len(got) >= 3

    first, second = run["results"][0], run["results"][1]
    # The buses are in no force's caseload, so no police user may review them.
    with pytest.raises(NotFound), container.uow() as uow:
        crime_matching.review_match(uow, POLICE, first["id"], "confirmed", "")
    with container.uow() as uow:
        crime_matching.review_match(uow, ANALYST, first["id"], "confirmed", "Seen on CCTV too")
        uow.commit()
    with pytest.raises(ValidationError) as caught, container.uow() as uow:
        crime_matching.review_match(uow, ANALYST, second["id"], "discarded", "")
    assert caught.value.field == "note"
    with container.uow() as uow:
        crime_matching.review_match(uow, ANALYST, second["id"], "discarded", "Bus driver, on duty")
        uow.commit()

    with container.uow() as uow:
        rows = crime_matching.confirmed_matches(
            uow, ANALYST, run_id, "Disclosure to the OIC", "csv"
        )
        uow.commit()
    assert [r["id"] for r in rows] == [first["id"]]
    from vigil.evidence.exports import matches_csv

    exported = list(csv.DictReader(io.StringIO(matches_csv(rows))))
    assert [row["crime_reference"] for row in exported] == [first["crime_reference"]]
    assert exported[0]["status"] == "confirmed"

    pdf = crime_matching.matches_pdf(run, rows, container.clock.now())
    assert pdf.startswith(b"%PDF")

    with container.engine.connect() as connection:
        actions = [r.action for r in connection.execute(select(audit_log.c.action))]
    for action in (
        "crime_batch.upload",
        "crime_match.run",
        "crime_match.view",
        "crime_match.review",
        "crime_match.export",
    ):
        assert action in actions
    with container.engine.connect() as connection:
        run_audit = connection.execute(
            select(audit_log.c.detail).where(audit_log.c.action == "crime_match.run")
        ).scalar_one()
    assert json.loads(run_audit)["algorithm_version"] == run["algorithm_version"]


def test_another_force_and_other_roles_cannot_see_a_batch(container: Container) -> None:
    with container.uow() as uow:
        summary = crime_upload.upload_batch(
            uow, POLICE, headed_sample(3), filename="x.csv", reason="Operation Route 14"
        )
        uow.commit()
    with pytest.raises(NotFound), container.uow() as uow:
        crime_upload.get_batch(uow, OTHER_POLICE, summary.id)
    with container.uow() as uow:
        assert crime_upload.list_batches(uow, OTHER_POLICE) == []
        assert [b["id"] for b in crime_upload.list_batches(uow, ANALYST)] == [summary.id]
    with pytest.raises(PermissionDenied), container.uow() as uow:
        crime_upload.upload_batch(uow, OFFICER, "x", filename="x.csv", reason="not allowed")


def test_police_rows_for_another_force_are_that_rows_error(container: Container) -> None:
    rows = (
        "Merseyside,BIAD,d,MER20260126,M1,20260126160000,20260126170000,,,53.41,-2.95,WGS84,\n"
        "Kent,BIAD,d,KNT20260126,K1,20260126160000,20260126170000,,,51.2,0.5,WGS84,\n"
    )
    with container.uow() as uow:
        summary = crime_upload.upload_batch(uow, POLICE, rows, filename="b.csv", reason="Batch in")
        uow.commit()
    assert summary.accepted == 1
    [error] = summary.errors
    assert (error.row, error.field, error.reference) == (2, "policeForce", "K1")


def test_a_reason_is_required_and_nothing_is_stored_without_one(container: Container) -> None:
    with pytest.raises(ValidationError) as caught, container.uow() as uow:
        crime_upload.upload_batch(uow, POLICE, headed_sample(2), filename="x.csv", reason=" ")
    assert caught.value.field == "reason"
    with container.uow() as uow:
        assert crime_upload.list_batches(uow, ANALYST) == []


def test_bng_rows_match_like_their_wgs84_equivalent(container: Container) -> None:
    from vigil.geo.bng import wgs84_to_bng

    store_buses(container)
    point = load_bus_fixes()[100]
    e, n = wgs84_to_bng(point.lat, point.lon)
    t = point.time.strftime("%Y%m%d%H%M%S")
    rows = (
        f"Merseyside,TFP,d,MER20260126,BNG1,{t},{t},{e:.0f},{n:.0f},,,OSGB36,\n"
        f"Merseyside,TFP,d,MER20260126,WGS1,{t},{t},,,{point.lat},{point.lon},WGS84,\n"
    )
    with container.uow() as uow:
        summary = crime_upload.upload_batch(uow, POLICE, rows, filename="b.csv", reason="Batch in")
        uow.commit()
    with container.uow() as uow:
        run_id = crime_matching.run_matching(
            uow, ANALYST, summary.id, MatchParameters(), "Check it"
        )
        uow.commit()
    with container.uow() as uow:
        results = crime_matching.get_run(uow, ANALYST, run_id, "Reviewing")["results"]
        uow.commit()
    by_ref = {r["crime_reference"]: r for r in results if r["person_id"] == point.person_id}
    assert set(by_ref) == {"BNG1", "WGS1"}
    assert by_ref["BNG1"]["closest_distance_m"] < 2.0
    assert by_ref["WGS1"]["closest_distance_m"] < 0.5


def test_a_file_in_another_format_is_refused_whole_and_nothing_is_stored(
    container: Container,
) -> None:
    # The real street-level download (fixtures README: data.police.uk, OGL v3.0).
    head = "".join(MERSEYSIDE.read_text().splitlines(keepends=True)[:40])
    with pytest.raises(ValidationError) as caught, container.uow() as uow:
        crime_upload.upload_batch(uow, POLICE, head, filename="street.csv", reason="Batch in")
    assert caught.value.field == "file"
    assert caught.value.reason.startswith("street.csv: The file's columns are not a crime batch")
    assert "missing reference, from, to" in caught.value.reason
    with container.uow() as uow:
        assert crime_upload.list_batches(uow, ANALYST) == []
