"""The evidence HTTP API (SQLite and PostgreSQL): crime upload with per-row errors, matching,
review, exports of confirmed matches, trail exports, weekly overviews and statistics; reasons
required, roles enforced, everything audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import log_in
from tests.evidence import registry
from tests.staff_sessions import auth_headers, staff_headers
from vigil.bootstrap import Container
from vigil.people import reference_data
from vigil.security import sign_in
from vigil.security.model import Role
from vigil.security.tables import audit_log
from vigil.tracking import store
from vigil.tracking.model import Fix

PASSWORD = "a-long-enough-password-123"
SCENE = (52.4862, -1.8904)
T0 = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 21:00 GMT


def bearer(container: Container, role: Role) -> dict[str, str]:
    return staff_headers(container, role)


def store_walk(container: Container, person: str) -> list[int]:
    """A wearer walking north through the scene between 20:50 and 21:10, a fix a minute."""
    fixes = [
        Fix(
            device_id="353000000000099",
            fix_time=T0 + timedelta(minutes=m),
            receive_time=T0 + timedelta(minutes=m, seconds=1),
            lat=SCENE[0] + 0.0002 * m,
            lon=SCENE[1],
            protocol="osmand",
            accuracy_m=10.0,
            raw=f"lat={m}",
        )
        for m in range(-10, 11)
    ]
    with container.uow() as uow:
        ids = store.append(uow, fixes, [person] * len(fixes))
        uow.commit()
    return ids


def wmp_wearer(container: Container) -> str:
    """A wearer in West Midlands Police's area: what a WMP user's crime matching may return."""
    from datetime import date

    from vigil.people import service as people
    from vigil.people.model import PersonDraft

    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
        draft = PersonDraft(
            first_name="Lee",
            last_name="Walsh",
            date_of_birth=date(1986, 4, 12),
            managing_team_id=None,
            force_area="WMP",
            risk_level="high",
            crn="W123456",
        )
        person_id = people.create_person(uow, registry.ACTOR, draft)
        uow.commit()
    return str(person_id)


def actions(container: Container) -> list[str]:
    with container.uow() as uow:
        return list(uow.connection.execute(select(audit_log.c.action)).scalars())


CRIMES = (
    "reference,type,from,to,lat,lon\n"
    f"WM-001,Burglary,2026-11-20 20:55,2026-11-20 21:05,{SCENE[0]},{SCENE[1]}\n"
    "WM-002,Robbery,2026-11-20 09:00,2026-11-20 09:30,52.5000,-1.8000\n"
    "WM-003,Burglary,2026-11-20 22:00,2026-11-20 21:00,52.5,-1.8\n"
    "WM-004,Juggling,2026-11-20 20:00,2026-11-20 21:00,95.0,-1.8\n"
)


def test_police_upload_match_and_an_analyst_confirms_before_anything_is_exported(
    client: TestClient, container: Container
) -> None:
    person = wmp_wearer(container)
    store_walk(container, person)
    registry.add_user(container, "pc.wmp", Role.POLICE, PASSWORD, force_area="WMP")
    csrf = log_in(client, "pc.wmp", PASSWORD)
    police = {"x-csrf-token": csrf}

    uploaded = client.post(
        "/api/evidence/crime-batches",
        files={"file": ("batch.csv", CRIMES.encode(), "text/csv")},
        data={"reason": "Operation Nightjar burglaries"},
        headers=police,
    )
    assert uploaded.status_code == 201, uploaded.text
    batch = uploaded.json()
    assert (batch["rows"], batch["accepted"], batch["rejected_rows"]) == (4, 2, 2)
    by_row = {(e["row"], e["field"]) for e in batch["errors"]}
    assert (4, "to") in by_row, "from after to is that row's error"
    assert {field for row, field in by_row if row == 5} >= {"type", "lat"}

    no_reason = client.post(
        f"/api/evidence/crime-batches/{batch['id']}/runs", json={"reason": ""}, headers=police
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"][0]["field"] == "reason"
    bad_radius = client.post(
        f"/api/evidence/crime-batches/{batch['id']}/runs",
        json={"reason": "Nightly match", "radius_m": 0},
        headers=police,
    )
    assert [d["field"] for d in bad_radius.json()["detail"]] == ["radius_m"]
    ran = client.post(
        f"/api/evidence/crime-batches/{batch['id']}/runs",
        json={"reason": "Nightly match", "radius_m": 80, "padding_before_min": 5},
        headers=police,
    )
    assert ran.status_code == 201, ran.text
    run_id = ran.json()["id"]
    assert client.get(f"/api/evidence/runs/{run_id}").status_code == 422
    run = client.get(f"/api/evidence/runs/{run_id}", params={"reason": "Reviewing matches"}).json()
    assert run["parameters"]["radius_m"] == 80
    [match] = run["results"]
    assert (match["crime_reference"], match["person_id"]) == ("WM-001", person)
    assert match["closest_distance_m"] < 15

    # Police review only their own force's matches: Kent Police cannot even find this one.
    # Before review nothing leaves the system.
    registry.add_user(container, "pc.kent", Role.POLICE, PASSWORD, force_area="KNT")
    with container.uow() as uow:
        kent = sign_in.log_in(uow, "pc.kent", PASSWORD, "tests")
        uow.commit()
    assert kent is not None
    refused = client.post(
        f"/api/evidence/matches/{match['id']}/review",
        json={"decision": "confirmed"},
        headers=auth_headers(f"session:{kent.token}:{kent.csrf_token}"),
    )
    assert refused.status_code == 404
    analyst = bearer(container, Role.ANALYST)
    early = client.get(
        f"/api/evidence/runs/{run_id}/export",
        params={"reason": "For the case file", "format": "csv"},
        headers=analyst,
    )
    assert list(csv.reader(io.StringIO(early.text)))[1:] == []
    needs_note = client.post(
        f"/api/evidence/matches/{match['id']}/review",
        json={"decision": "discarded"},
        headers=analyst,
    )
    assert needs_note.json()["detail"][0]["field"] == "note"
    confirmed = client.post(
        f"/api/evidence/matches/{match['id']}/review",
        json={"decision": "confirmed", "note": "Trail fits the account"},
        headers=analyst,
    )
    assert confirmed.json()["status"] == "confirmed"

    files = {}
    for fmt in ("csv", "geojson", "kml", "gpx", "pdf"):
        response = client.get(
            f"/api/evidence/runs/{run_id}/export",
            params={"reason": "For the case file", "format": fmt},
            headers=analyst,
        )
        assert response.status_code == 200, (fmt, response.text)
        assert "attachment" in response.headers["content-disposition"]
        files[fmt] = response.content
    rows = list(csv.DictReader(io.StringIO(files["csv"].decode())))
    assert [(r["crime_reference"], r["person_id"], r["status"]) for r in rows] == [
        ("WM-001", person, "confirmed")
    ]
    features = json.loads(files["geojson"])["features"]
    assert features[0]["geometry"]["coordinates"] == [SCENE[1], SCENE[0]]
    assert ElementTree.fromstring(files["kml"]).tag.endswith("kml")  # noqa: S314 (our own output)
    assert ElementTree.fromstring(files["gpx"]).tag.endswith("gpx")  # noqa: S314 (our own output)
    assert files["pdf"].startswith(b"%PDF")
    bad = client.get(
        f"/api/evidence/runs/{run_id}/export",
        params={"reason": "For the case file", "format": "xls"},
        headers=analyst,
    )
    assert bad.json()["detail"][0]["field"] == "format"

    done = actions(container)
    for action in (
        "crime_batch.upload",
        "crime_match.run",
        "crime_match.view",
        "crime_match.review",
    ):
        assert action in done
    assert done.count("crime_match.export") == 6  # the early (empty) export is recorded too


def test_trail_exports_in_four_formats_need_a_reason_and_stay_in_the_caseload(
    client: TestClient, container: Container
) -> None:
    ids = store_walk(container, "7")
    operator = bearer(container, Role.MONITORING_OPERATOR)
    window = {
        "start": (T0 - timedelta(hours=1)).isoformat(),
        "end": (T0 + timedelta(hours=1)).isoformat(),
    }
    url = "/api/evidence/persons/7/trail"
    missing = client.get(url, params={**window, "format": "gpx"}, headers=operator)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["field"] == "reason"
    naive = client.get(
        url,
        params={"start": "2026-11-20T20:00", "end": "2026-11-20T22:00", "reason": "Check alibi"},
        headers=operator,
    )
    assert {d["field"] for d in naive.json()["detail"]} == {"start", "end"}

    reason = {**window, "reason": "Checking the victim's account"}
    got = {
        fmt: client.get(url, params={**reason, "format": fmt}, headers=operator)
        for fmt in ("geojson", "gpx", "kml", "csv")
    }
    assert all(r.status_code == 200 for r in got.values())
    geo = got["geojson"].json()
    assert len([f for f in geo["features"] if f["geometry"]["type"] == "Point"]) == len(ids)
    gpx = ElementTree.fromstring(got["gpx"].content)  # noqa: S314 (our own output)
    assert len(gpx.findall(".//{http://www.topografix.com/GPX/1/1}trkpt")) == len(ids)
    assert got["kml"].headers["content-type"].startswith("application/vnd.google-earth.kml+xml")
    assert len(got["csv"].text.strip().splitlines()) == len(ids) + 1
    assert actions(container).count("trail.export") == 4
    assert actions(container).count("trail.view") == 4

    # A probation officer whose team does not manage person 7 finds nothing.
    registry.add_user(container, "officer", Role.PROBATION_OFFICER, PASSWORD, team_id=99)
    log_in(client, "officer", PASSWORD)
    assert client.get(url, params={**reason, "format": "csv"}).status_code == 404


def test_weekly_overview_and_statistics_over_the_api(
    client: TestClient, container: Container
) -> None:
    store_walk(container, "7")
    container.clock.set(datetime(2026, 11, 30, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    operator = bearer(container, Role.MONITORING_OPERATOR)
    made = client.post(
        "/api/evidence/persons/7/weekly",
        json={"week_start": "2026-11-16", "reason": "Weekly review"},
        headers=operator,
    )
    assert made.status_code == 201, made.text
    weekly = made.json()
    tuesday = client.post(
        "/api/evidence/persons/7/weekly",
        json={"week_start": "2026-11-17", "reason": "Weekly review"},
        headers=operator,
    )
    assert tuesday.json()["detail"][0]["field"] == "week_start"
    listed = client.get("/api/evidence/persons/7/weekly", headers=operator).json()
    assert [w["id"] for w in listed] == [weekly["id"]]
    pdf = client.get(
        f"/api/evidence/weekly/{weekly['id']}",
        params={"reason": "Supervision meeting"},
        headers=operator,
    )
    assert pdf.content.startswith(b"%PDF")
    html = client.get(
        f"/api/evidence/weekly/{weekly['id']}",
        params={"reason": "Supervision meeting", "format": "html"},
        headers=operator,
    )
    assert "Weekly movement overview" in html.text

    period = {"start": "2026-11-01", "end": "2026-12-01", "reason": "Pilot evaluation"}
    assert (
        client.get("/api/evidence/statistics", params=period, headers=operator).status_code == 403
    )
    admin = bearer(container, Role.ADMIN)
    figures = client.get("/api/evidence/statistics", params=period, headers=admin).json()
    assert figures["wearers_total"] == 0
    assert set(figures["violations"]) >= {"curfew", "exclusion_zone"}
    sheet = client.get(
        "/api/evidence/statistics", params={**period, "format": "csv"}, headers=admin
    )
    assert sheet.text.startswith("measure,group,subgroup,value")
    assert "programme_statistics.view" in actions(container)
