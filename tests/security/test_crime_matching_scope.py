"""Crime matching is no side door: a Leicestershire officer who uploads "crimes" in Coventry and
matches them at 5 km sees no West Midlands wearer (issue: 13 such matches were returned), while
an analyst's nationwide run finds them and a police user viewing it sees only their own force's."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.conftest import FIXTURES
from vigil.bootstrap import Container
from vigil.evidence import crime_matching, crime_upload
from vigil.evidence.matching import MatchParameters
from vigil.people import force_boundaries, reference_data
from vigil.people import service as people
from vigil.people.model import PersonDraft
from vigil.security.model import SYSTEM, Principal, Role
from vigil.security.tables import audit_log
from vigil.tracking import store
from vigil.tracking.model import Fix

LEICS = Principal(id=21, name="police.leics", role=Role.POLICE, force_area="LEI")
WMP = Principal(id=22, name="police.wmp", role=Role.POLICE, force_area="WMP")
ANALYST = Principal(id=23, name="analyst", role=Role.ANALYST)
COVENTRY = (52.4068, -1.5197)
LEICESTER = (52.6369, -1.1398)
AT = datetime(2026, 11, 20, 21, 0)
BOUNDARIES = FIXTURES / "boundaries" / "force-areas-outline.geojson"


def _wearer(
    container: Container, force: str, where: tuple[float, float], tag: str, crn: str
) -> int:
    with container.uow() as uow:
        person_id = people.create_person(
            uow,
            SYSTEM,
            PersonDraft(
                first_name="Sam",
                last_name=f"Wearer{tag}",
                date_of_birth=date(1980, 1, 1),
                managing_team_id=None,
                force_area=force,
                risk_level="high",
                crn=crn,
            ),
        )
        uow.commit()
    fixes = [
        Fix(
            device_id=f"tag-{tag}",
            fix_time=(AT + timedelta(minutes=i)).astimezone(),
            receive_time=(AT + timedelta(minutes=i)).astimezone(),
            lat=where[0] + i * 0.0001,
            lon=where[1],
            protocol="osmand",
            accuracy_m=8.0,
            raw=f"{tag}-{i}",
        )
        for i in range(5)
    ]
    with container.uow() as uow:
        store.append(uow, fixes, [str(person_id)] * len(fixes))
        uow.commit()
    return person_id


def _batch(container: Container, principal: Principal, lat: float, lon: float) -> int:
    text = (
        "reference,type,from,to,lat,lon\n"
        f"C-1,Burglary,2026-11-20 20:50,2026-11-20 21:30,{lat},{lon}\n"
    )
    with container.uow() as uow:
        result = crime_upload.upload_batch(
            uow, principal, text, filename="scene.csv", reason="Burglary series checks"
        ).id
        uow.commit()
    return result


def test_police_matches_only_wearers_in_their_force(container: Container) -> None:
    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
        uow.commit()
    coventry = _wearer(container, "WMP", COVENTRY, "cov", "C123456")
    leicester = _wearer(container, "LEI", LEICESTER, "lei", "L123456")
    params = MatchParameters(radius_m=5000.0)

    batch = _batch(container, LEICS, *COVENTRY)
    with container.uow() as uow:
        run = crime_matching.run_matching(uow, LEICS, batch, params, "Burglary series checks")
        uow.commit()
    with container.uow() as uow:
        found = crime_matching.get_run(uow, LEICS, run, "Reviewing the results")
        uow.commit()
    assert found["results"] == []

    # Their own wearer near their own scene is found.
    own = _batch(container, LEICS, *LEICESTER)
    with container.uow() as uow:
        run = crime_matching.run_matching(uow, LEICS, own, params, "Burglary series checks")
        uow.commit()
    with container.uow() as uow:
        found = crime_matching.get_run(uow, LEICS, run, "Reviewing the results")
        uow.commit()
    assert {r["person_id"] for r in found["results"]} == {str(leicester)}

    # An analyst's nationwide run finds the Coventry wearer; Leicestershire still cannot see it.
    with container.uow() as uow:
        run = crime_matching.run_matching(uow, ANALYST, batch, params, "Regional series review")
        uow.commit()
    with container.uow() as uow:
        found = crime_matching.get_run(uow, ANALYST, run, "Reviewing the results")
        uow.commit()
    assert {r["person_id"] for r in found["results"]} == {str(coventry)}
    with container.uow() as uow:
        found = crime_matching.get_run(uow, LEICS, run, "Reviewing the results")
        uow.commit()
    assert found["results"] == []


def _load_boundaries(container: Container) -> None:
    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
        force_boundaries.load(
            uow,
            BOUNDARIES.read_bytes(),
            source=BOUNDARIES.name,
            name_property="PFA23NM",
            actor="test",
        )
        uow.commit()


def _upload(container: Container, principal: Principal, *scenes: tuple[float, float]) -> Any:
    lines = [
        f"C-{i},Burglary,2026-11-20 20:50,2026-11-20 21:30,{lat},{lon}"
        for i, (lat, lon) in enumerate(scenes, start=1)
    ]
    with container.uow() as uow:
        result = crime_upload.upload_batch(
            uow,
            principal,
            "reference,type,from,to,lat,lon\n" + "\n".join(lines) + "\n",
            filename="scenes.csv",
            reason="Burglary series checks",
        )
        uow.commit()
    return result


def test_a_police_users_crimes_must_lie_in_their_force_area(container: Container) -> None:
    _load_boundaries(container)
    summary = _upload(container, LEICS, COVENTRY, LEICESTER)
    # The Coventry "crime" is that row's error; the Leicester one is kept.
    assert summary.accepted == 1
    assert [(e.row, e.field) for e in summary.errors] == [(2, "location")]
    assert "outside your force area" in summary.errors[0].reason
    # West Midlands Police may submit the Coventry scene; an analyst matches nationwide anyway.
    assert _upload(container, WMP, COVENTRY).accepted == 1
    assert _upload(container, ANALYST, COVENTRY, LEICESTER).accepted == 2


def test_a_scene_just_across_the_border_is_kept(container: Container) -> None:
    # Published crime points are moved to nearby map points; 500 m over the line still counts.
    _load_boundaries(container)
    just_outside = (52.5, -2.20 - 0.0073)  # about 500 m west of the West Midlands outline
    assert _upload(container, WMP, just_outside).accepted == 1
    assert _upload(container, WMP, (52.5, -2.20 - 0.03)).accepted == 0  # about 2 km out


def test_without_a_loaded_boundary_results_stay_scoped_and_the_audit_says_so(
    container: Container,
) -> None:
    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
        uow.commit()
    assert _upload(container, LEICS, COVENTRY).accepted == 1
    with container.engine.connect() as conn:
        detail = conn.execute(
            select(audit_log.c.detail).where(audit_log.c.action == "crime_batch.upload")
        ).scalar_one()
    assert json.loads(detail)["boundary_checked"] is False
