"""Crime matching is no side door: a Leicestershire officer who uploads "crimes" in Coventry and
matches them at 5 km sees no West Midlands wearer (issue: 13 such matches were returned), while
an analyst's nationwide run finds them and a police user viewing it sees only their own force's."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from vigil.bootstrap import Container
from vigil.evidence import crime_matching, crime_upload
from vigil.evidence.matching import MatchParameters
from vigil.people import reference_data
from vigil.people import service as people
from vigil.people.model import PersonDraft
from vigil.security.model import SYSTEM, Principal, Role
from vigil.tracking import store
from vigil.tracking.model import Fix

LEICS = Principal(id=21, name="police.leics", role=Role.POLICE, force_area="LEI")
WMP = Principal(id=22, name="police.wmp", role=Role.POLICE, force_area="WMP")
ANALYST = Principal(id=23, name="analyst", role=Role.ANALYST)
COVENTRY = (52.4068, -1.5197)
LEICESTER = (52.6369, -1.1398)
AT = datetime(2026, 11, 20, 21, 0)


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
        return crime_upload.upload_batch(
            uow, principal, text, filename="scene.csv", reason="Burglary series checks"
        ).id


def test_police_matches_only_wearers_in_their_force(container: Container) -> None:
    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
    coventry = _wearer(container, "WMP", COVENTRY, "cov", "C123456")
    leicester = _wearer(container, "LEI", LEICESTER, "lei", "L123456")
    params = MatchParameters(radius_m=5000.0)

    batch = _batch(container, LEICS, *COVENTRY)
    with container.uow() as uow:
        run = crime_matching.run_matching(uow, LEICS, batch, params, "Burglary series checks")
    with container.uow() as uow:
        found = crime_matching.get_run(uow, LEICS, run, "Reviewing the results")
    assert found["results"] == []

    # Their own wearer near their own scene is found.
    own = _batch(container, LEICS, *LEICESTER)
    with container.uow() as uow:
        run = crime_matching.run_matching(uow, LEICS, own, params, "Burglary series checks")
    with container.uow() as uow:
        found = crime_matching.get_run(uow, LEICS, run, "Reviewing the results")
    assert {r["person_id"] for r in found["results"]} == {str(leicester)}

    # An analyst's nationwide run finds the Coventry wearer; Leicestershire still cannot see it.
    with container.uow() as uow:
        run = crime_matching.run_matching(uow, ANALYST, batch, params, "Regional series review")
    with container.uow() as uow:
        found = crime_matching.get_run(uow, ANALYST, run, "Reviewing the results")
    assert {r["person_id"] for r in found["results"]} == {str(coventry)}
    with container.uow() as uow:
        found = crime_matching.get_run(uow, LEICS, run, "Reviewing the results")
    assert found["results"] == []
