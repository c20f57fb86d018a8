"""The trail JSON API: roles, reasons (422 naming ``reason``), and results."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.staff_sessions import staff_headers
from tests.tracking.helpers import T0, fix
from vigil.bootstrap import Container
from vigil.security.model import Role
from vigil.security.tables import audit_log
from vigil.tracking import store


def _bearer(container: Container, role: str) -> dict[str, str]:
    return staff_headers(container, Role(role))


def _iso(delta: timedelta = timedelta(0)) -> str:
    return (T0 + delta).isoformat().replace("+00:00", "Z")


def _seed(container: Container) -> None:
    with container.uow() as uow:
        store.append(
            uow,
            [fix("T1", T0 + timedelta(minutes=m)) for m in (0, 1, 30)] + [fix("STRAY", T0)],
            ["P1", "P1", "P1", None],
        )
        uow.commit()


def test_a_missing_reason_is_a_422_naming_reason(client: TestClient, container: Container) -> None:
    headers = _bearer(container, "monitoring_operator")
    response = client.get(
        "/api/trail/persons/P1",
        params={"start": _iso(), "end": _iso(timedelta(hours=1))},
        headers=headers,
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["reason"]
    blank = client.get(
        "/api/trail/persons/P1",
        params={"start": _iso(), "end": _iso(timedelta(hours=1)), "reason": "  "},
        headers=headers,
    )
    assert blank.status_code == 422
    assert blank.json()["detail"][0]["field"] == "reason"


def test_an_operator_gets_a_trail_with_gaps_and_the_view_is_audited(
    client: TestClient, container: Container
) -> None:
    _seed(container)
    response = client.get(
        "/api/trail/persons/P1",
        params={"start": _iso(), "end": _iso(timedelta(hours=1)), "reason": "alert A-12 triage"},
        headers=_bearer(container, "monitoring_operator"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [f["time"] for f in body["fixes"]] == [
        _iso(),
        _iso(timedelta(minutes=1)),
        _iso(timedelta(minutes=30)),
    ]
    assert [(g["start"], g["end"]) for g in body["gaps"]] == [
        (_iso(timedelta(minutes=1)), _iso(timedelta(minutes=30))),
        (_iso(timedelta(minutes=30)), _iso(timedelta(hours=1))),
    ]
    with container.engine.connect() as conn:
        actions = list(conn.execute(select(audit_log.c.action, audit_log.c.subject_id)))
    assert ("trail.view", "P1") in [tuple(a) for a in actions]


def test_who_was_near_and_checking_an_account_answer_in_json(
    client: TestClient, container: Container
) -> None:
    _seed(container)
    headers = _bearer(container, "admin")
    near = client.get(
        "/api/trail/near",
        params={
            "lat": 52.4862,
            "lon": -1.8904,
            "radius_m": 200,
            "start": _iso(),
            "end": _iso(timedelta(hours=2)),
            "reason": "crime ref 20/1234",
        },
        headers=headers,
    )
    assert near.status_code == 200, near.text
    persons = near.json()["persons"]
    assert [p["person"] for p in persons] == ["P1"]
    assert len(persons[0]["fixes"]) == 3
    account = client.get(
        "/api/trail/persons/P1/account",
        params={
            "lat": 52.4862,
            "lon": -1.8904,
            "radius_m": 50,
            "at": _iso(timedelta(minutes=1)),
            "reason": "victim account V-3",
        },
        headers=headers,
    )
    assert account.status_code == 200, account.text
    assert account.json()["within"] is True
    unknown = client.get("/api/trail/unknown-devices", headers=headers)
    assert [d["device"] for d in unknown.json()["devices"]] == ["STRAY"]


def test_roles_outside_monitoring_cannot_query_trails(
    client: TestClient, container: Container
) -> None:
    response = client.get(
        "/api/trail/near",
        params={
            "lat": 52.4,
            "lon": -1.9,
            "start": _iso(),
            "end": _iso(timedelta(hours=1)),
            "reason": "curiosity is not a reason",
        },
        headers=_bearer(container, "analyst"),
    )
    assert response.status_code == 403
