from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from tests.conftest import log_in
from tests.contact.helpers import (
    bearer,
    case_id_for,
    load_register,
    sample_request,
    submit,
    tokens,
)
from tests.staff_sessions import staff_credential
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.contact import notifications
from vigil.contact.tables import (
    contact_bar_items,
    contact_cases,
    contact_notifications,
    contact_protected_people,
)
from vigil.security import service as security
from vigil.security.model import Role


def test_json_twin_answers_201_with_only_a_reference(client: TestClient) -> None:
    response = client.post("/api/contact/requests", json=sample_request())
    assert response.status_code == 201
    assert set(response.json()) == {"reference"}
    assert response.json()["reference"].startswith("UPC-")


def test_protected_and_requester_details_are_encrypted_at_rest(
    client: TestClient, container: Container
) -> None:
    submit(client)
    with container.engine.connect() as conn:
        stored = " ".join(
            str(v)
            for table in (contact_cases, contact_protected_people)
            for row in conn.execute(select(table))
            for v in row
        )
    for secret in ("Jane", "7700", "jane@example.com", "Asha", "High Street", "refuge"):
        assert secret not in stored


def test_json_twin_rejects_an_oversize_body_with_413(client: TestClient) -> None:
    body = sample_request()
    body["contact"]["details"] = "x" * (70 * 1024)
    response = client.post("/api/contact/requests", json=body)
    assert response.status_code == 413


@pytest.mark.parametrize("bad", ["Jane \ud800 Doe", "\udfff", "Jane\x00Doe", "Jane\x1bDoe"])
def test_json_twin_refuses_names_that_are_not_printable_unicode_and_the_queue_still_opens(
    client: TestClient, container: Container, bad: str
) -> None:
    body = sample_request()
    body["protected_people"][0]["name"] = bad
    body["requester"]["name"] = bad
    response = client.post(
        "/api/contact/requests",
        content=json.dumps(body).encode(),  # ensure_ascii spells the surrogate as JSON allows
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    fields = {e["field"] for e in response.json()["detail"]}
    assert {"requester.name", "protected_people.0.name"} <= fields
    with container.uow() as uow:
        security.add_user(uow, username="ch", password="pw-long-enough-1", role="upcs_case_handler")
        uow.commit()
    log_in(client, "ch", "pw-long-enough-1")
    assert client.get("/api/contact/cases").status_code == 200
    assert client.get("/contact/cases").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (b"[" * 5000 + b"]" * 5000, "body"),
        (json.dumps({"requester": {"type": "alien"}}).encode(), "requester.type"),
        (json.dumps(sample_request(consent="maybe")).encode(), "consent"),
        (json.dumps(sample_request(protected_people=[])).encode(), "protected_people"),
        (
            json.dumps(sample_request(protected_people=[{"name": "X", "phones": ["12"]}])).encode(),
            "protected_people.0.phones.0",
        ),
        (
            json.dumps(
                sample_request(protected_people=[{"name": "X" * 201, "phones": ["07700900123"]}])
            ).encode(),
            "protected_people.0.name",
        ),
        (
            json.dumps(
                sample_request(protected_people=[{"name": "X", "phones": ["07700900123"] * 11}])
            ).encode(),
            "protected_people.0.phones",
        ),
        (
            json.dumps(sample_request(prisoner={"prison_number": "12"})).encode(),
            "prisoner.prison_number",
        ),
        (
            json.dumps(
                sample_request(prisoner={"name": "A", "date_of_birth": "1985-02-30"})
            ).encode(),
            "prisoner.date_of_birth",
        ),
        (json.dumps(sample_request(contact={"kinds": ["pigeons"]})).encode(), "contact.kinds.0"),
        (
            json.dumps(
                sample_request(requester={"type": "police", "name": 7, "email": ["x"]})
            ).encode(),
            "requester.name",
        ),
    ],
)
def test_json_twin_answers_422_naming_the_field_never_500(
    client: TestClient, body: bytes, field: str
) -> None:
    response = client.post(
        "/api/contact/requests", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["detail"]]


def test_json_twin_is_rate_limited_per_client(client: TestClient, container: Container) -> None:
    from datetime import timedelta

    from vigil.security.throttle import SharedRateLimiter

    limiter = SharedRateLimiter(container.uow, "contact.public", 2, timedelta(minutes=10))
    container.public_form_limiter = limiter
    assert client.post("/api/contact/requests", json=sample_request()).status_code == 201
    assert client.post("/api/contact/requests", json=sample_request()).status_code == 201
    assert client.post("/api/contact/requests", json=sample_request()).status_code == 429
    # A second web process (its own limiter, same database) sees the same count.
    other = SharedRateLimiter(container.uow, "contact.public", 2, timedelta(minutes=10))
    assert not other.allow("testclient")


def test_prison_system_token_cannot_read_cases(client: TestClient, container: Container) -> None:
    keys = tokens(container)
    reference = submit(client)
    case_id = case_id_for(client, keys["handler"], reference)
    for url in (
        f"/api/contact/cases?reference={reference}",
        f"/api/contact/cases/{case_id}",
        "/api/contact/cases",
        "/api/contact/statistics",
    ):
        assert client.get(url, headers=bearer(keys["prison"])).status_code == 403


def test_case_handler_token_cannot_run_enforcement_checks(
    client: TestClient, container: Container
) -> None:
    keys = tokens(container)
    response = client.post(
        "/api/contact/call-check",
        json={"prison_number": "A1234BC", "number": "07700 900123"},
        headers=bearer(keys["handler"]),
    )
    assert response.status_code == 403


def _bar(client: TestClient, token: str, case_id: int, **body: object) -> int:
    payload = {"reason": "Victim frightened by nightly calls", **body}
    response = client.post(
        f"/api/contact/cases/{case_id}/bars", json=payload, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    bar_id: int = response.json()["bar_id"]
    return bar_id


def _call(client: TestClient, token: str, prison_number: str, number: str) -> dict[str, object]:
    response = client.post(
        "/api/contact/call-check",
        json={"prison_number": prison_number, "number": number},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


@pytest.mark.parametrize(
    "dialled", ["+44 (0)7700 900123", "07700 900123", "0044 7700 900123", "447700900123"]
)
def test_every_way_of_writing_a_barred_number_is_refused(
    client: TestClient, container: Container, dialled: str
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    _bar(
        client,
        keys["handler"],
        case_id,
        scope="prisoner",
        prison_number="A1234BC",
        numbers=["07700 900123"],
    )
    result = _call(client, keys["prison"], "A1234BC", dialled)
    assert result["allowed"] is False
    assert result["reason"] == "number is barred for this prisoner"
    assert _call(client, keys["prison"], "A1234BC", "07700 900999")["allowed"] is True


def test_prisoner_scope_bars_one_prisoner_and_estate_scope_bars_everyone(
    client: TestClient, container: Container
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    _bar(
        client,
        keys["handler"],
        case_id,
        scope="prisoner",
        prison_number="A1234BC",
        numbers=["07700 900123"],
    )
    _bar(client, keys["handler"], case_id, scope="estate", numbers=["07700 900456"])
    assert _call(client, keys["prison"], "A1234BC", "07700900123")["allowed"] is False
    assert _call(client, keys["prison"], "B2345CD", "07700900123")["allowed"] is True
    # Another prisoner used as a go-between is stopped by the estate-wide bar.
    result = _call(client, keys["prison"], "B2345CD", "07700900456")
    assert result == {
        "allowed": False,
        "reason": "number is barred across the prison estate",
        "number": "+447700900456",
    }


def test_a_bar_with_no_items_named_covers_everything_the_request_gave(
    client: TestClient, container: Container
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    _bar(client, keys["handler"], case_id, scope="estate")
    with container.engine.connect() as conn:
        kinds = sorted(conn.execute(select(contact_bar_items.c.kind)).scalars())
    assert kinds == ["address", "email", "phone", "phone"]


def test_prisoner_scope_without_a_prisoner_is_refused_naming_the_field(
    client: TestClient, container: Container
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    response = client.post(
        f"/api/contact/cases/{case_id}/bars",
        json={"scope": "prisoner", "reason": "r"},
        headers=bearer(keys["handler"]),
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "prison_number"


def test_lifting_a_bar_needs_a_reason_and_lets_calls_through(
    client: TestClient, container: Container
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    bar_id = _bar(client, keys["handler"], case_id, scope="estate", numbers=["07700 900123"])
    assert _call(client, keys["prison"], "A1234BC", "07700900123")["allowed"] is False
    response = client.post(
        f"/api/contact/bars/{bar_id}/lift", json={"reason": " "}, headers=bearer(keys["handler"])
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "reason"
    assert _call(client, keys["prison"], "A1234BC", "07700900123")["allowed"] is False
    response = client.post(
        f"/api/contact/bars/{bar_id}/lift",
        json={"reason": "Victim asked for contact to resume"},
        headers=bearer(keys["handler"]),
    )
    assert response.status_code == 200
    assert _call(client, keys["prison"], "A1234BC", "07700900123")["allowed"] is True
    case = client.get(f"/api/contact/cases/{case_id}", headers=bearer(keys["handler"])).json()
    assert case["bars"][0]["lift_reason"] == "Victim asked for contact to resume"


def test_delta_feed_gives_additions_then_removals_after_the_cursor(
    client: TestClient, container: Container
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    first = client.get("/api/contact/barred-numbers", headers=bearer(keys["prison"])).json()
    assert first["additions"] == []
    bar_id = _bar(
        client, keys["handler"], case_id, scope="estate", numbers=["07700 900123", "07700 900456"]
    )
    added = client.get(
        f"/api/contact/barred-numbers?since={first['cursor']}", headers=bearer(keys["prison"])
    ).json()
    assert [a["number"] for a in added["additions"]] == ["+447700900123", "+447700900456"]
    assert added["removals"] == []
    again = client.get(
        f"/api/contact/barred-numbers?since={added['cursor']}", headers=bearer(keys["prison"])
    ).json()
    assert again["additions"] == []
    assert again["removals"] == []
    client.post(
        f"/api/contact/bars/{bar_id}/lift",
        json={"reason": "Order ended"},
        headers=bearer(keys["handler"]),
    )
    removed = client.get(
        f"/api/contact/barred-numbers?since={again['cursor']}", headers=bearer(keys["prison"])
    ).json()
    assert sorted(r["number"] for r in removed["removals"]) == ["+447700900123", "+447700900456"]
    assert removed["additions"] == []
    paged = client.get(
        "/api/contact/barred-numbers?since=0&limit=1", headers=bearer(keys["prison"])
    ).json()
    assert len(paged["additions"]) == 1
    assert paged["more"] is True
    bad = client.get("/api/contact/barred-numbers?since=abc", headers=bearer(keys["prison"]))
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "since"


def test_repeated_refused_calls_raise_one_alert_for_the_case_handler(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    _bar(
        client,
        keys["handler"],
        case_id,
        scope="prisoner",
        prison_number="A1234BC",
        numbers=["07700 900123"],
    )
    for _ in range(2):
        _call(client, keys["prison"], "A1234BC", "07700 900123")
        clock.advance(timedelta(hours=2))
    assert client.get("/api/contact/alerts", headers=bearer(keys["handler"])).json()["alerts"] == []
    _call(client, keys["prison"], "A1234BC", "+447700900123")
    _call(client, keys["prison"], "A1234BC", "+447700900123")
    alerts = client.get("/api/contact/alerts", headers=bearer(keys["handler"])).json()["alerts"]
    assert len(alerts) == 1
    assert alerts[0]["message"] == "A1234BC dialled a barred number 4 times in 24 hours"
    case = client.get(f"/api/contact/cases/{case_id}", headers=bearer(keys["handler"])).json()
    assert len(case["attempts"]) == 4
    assert case["open_alerts"] == 1


def test_a_case_with_recorded_attempted_contact_still_opens_and_its_notices_are_encrypted(
    client: TestClient, container: Container
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    _bar(client, keys["handler"], case_id, scope="estate", numbers=["07700 900123"])
    for _ in range(3):
        _call(client, keys["prison"], "A1234BC", "07700 900123")
    with container.uow() as uow:
        bodies = uow.connection.execute(select(contact_notifications.c.body_enc)).scalars().all()
        security.add_user(
            uow, username="ch", password="correct horse battery", role=Role.UPCS_CASE_HANDLER
        )
        uow.commit()
    assert bodies, "three refused calls leave a notice for the case handler"
    assert all(body.startswith("enc1:") for body in bodies)
    log_in(client, "ch", "correct horse battery")
    page = client.get(f"/contact/cases/{case_id}")
    assert page.status_code == 200
    assert "dialled a barred number 3 times" in page.text


def test_notices_stored_in_plain_text_are_sealed_and_never_stop_the_case_page(
    client: TestClient, container: Container
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    plain = {"case_id": case_id, "audience": "case_handler", "channel": "queue"}
    with container.uow() as uow:
        for body in ("alert:7", "requester:not base64 at all"):
            uow.connection.execute(
                insert(contact_notifications).values(
                    created_at=container.clock.now(), body_enc=body, **plain
                )
            )
        uow.commit()
    with container.uow() as uow:
        unreadable = notifications.pending_notifications(uow, container.cipher, case_id)
    assert [n["body"] for n in unreadable] == ["(this notice cannot be read)"] * 2
    with container.uow() as uow:
        assert notifications.seal_plaintext_notices(uow, container.cipher, actor="test") == 2
        uow.commit()
    with container.uow() as uow:
        assert notifications.seal_plaintext_notices(uow, container.cipher, actor="test") == 0
        sealed = notifications.pending_notifications(uow, container.cipher, case_id)
    assert [n["body"] for n in sealed] == ["alert:7", "requester:not base64 at all"]


def test_attempts_spread_over_more_than_a_day_raise_no_alert(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    _bar(client, keys["handler"], case_id, scope="estate", numbers=["07700 900123"])
    for _ in range(3):
        _call(client, keys["prison"], "A1234BC", "07700 900123")
        clock.advance(timedelta(hours=13))
    # A day and a half later the morning's sign-in has ended: the handler signs in again.
    handler = staff_credential(container, Role.UPCS_CASE_HANDLER)
    assert client.get("/api/contact/alerts", headers=bearer(handler)).json()["alerts"] == []


@pytest.mark.parametrize(
    ("envelope", "allowed"),
    [
        ("Ms J Doe, Flat 2, 14 High St, Birmingham b11aa", False),
        ("Occupier\nFlat 2\n14 High Street\nBirmingham\nB1 1AA", False),
        ("Mr T Doe, 14 High Street, Birmingham, B11AA", False),  # anyone at the address
        ("J Doe, Flat 2, 14 High Street, Birmingham B1  1aa", False),
        ("J Doe, Flat 2, 14 High Street, Birmingham", False),  # no postcode: street and town
        ("J Doe, Flat 3, 14 High Street, Birmingham B1 1AA", True),  # another flat
        ("J Doe, 16 High Street, Birmingham B1 1AA", True),
        ("J Doe, 14 High Street, Leeds LS1 1AA", True),
    ],
)
def test_mail_check_holds_letters_to_the_barred_address_however_written(
    client: TestClient, container: Container, envelope: str, allowed: bool
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    _bar(
        client,
        keys["handler"],
        case_id,
        scope="prisoner",
        prison_number="A1234BC",
        addresses=[{"lines": ["Flat 2", "14 High Street", "Birmingham"], "postcode": "B1 1AA"}],
    )
    response = client.post(
        "/api/contact/mail-check",
        json={"prison_number": "A1234BC", "address": envelope},
        headers=bearer(keys["prison"]),
    )
    assert response.status_code == 200, response.text
    assert response.json()["allowed"] is allowed, response.json()
    if not allowed:
        assert response.json()["score"] >= 0.8
        assert "same building" in response.json()["match"]["reasons"]
    other = client.post(
        "/api/contact/mail-check",
        json={"prison_number": "B2345CD", "address": envelope},
        headers=bearer(keys["prison"]),
    )
    assert other.json()["allowed"] is True


def test_candidates_rank_the_misspelt_prisoner_first_with_reasons(
    client: TestClient, container: Container
) -> None:
    keys = tokens(container)
    load_register(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    found = client.get(
        f"/api/contact/cases/{case_id}/candidates", headers=bearer(keys["handler"])
    ).json()["candidates"]
    assert found[0]["prison_number"] == "A1234BC"
    assert "date of birth matches with day and month swapped" in found[0]["reasons"]
    assert any("similar" in r for r in found[0]["reasons"])
    response = client.post(
        f"/api/contact/cases/{case_id}/match",
        json={"prisoner_id": found[0]["prisoner_id"]},
        headers=bearer(keys["handler"]),
    )
    assert response.status_code == 200
    # A prisoner-only bar now defaults to the matched prisoner.
    _bar(client, keys["handler"], case_id, scope="prisoner")
    case = client.get(f"/api/contact/cases/{case_id}", headers=bearer(keys["handler"])).json()
    assert case["status"] == "barred"
    assert case["bars"][0]["prison_number"] == "A1234BC"


def test_reading_a_case_is_audited(client: TestClient, container: Container) -> None:
    from vigil.security.tables import audit_log

    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    client.get(f"/api/contact/cases/{case_id}", headers=bearer(keys["handler"]))
    with container.engine.connect() as conn:
        actions = list(conn.execute(select(audit_log.c.action, audit_log.c.detail)))
    assert [a for a, _ in actions].count("contact.case.viewed") == 2
    assert all("Jane" not in d for _, d in actions)


def test_requester_is_told_the_outcome_through_the_alert_outbox_without_the_prison(
    client: TestClient, container: Container
) -> None:
    from vigil.alerts.tables import alert_deliveries

    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    _bar(client, keys["handler"], case_id, scope="prisoner", prison_number="A1234BC")
    with container.engine.connect() as conn:
        deliveries = conn.execute(select(alert_deliveries)).all()
    assert len(deliveries) == 1
    assert deliveries[0].channel == "email"
    assert deliveries[0].recipient == "asha@refuge.example.org"
    text = str(deliveries[0].body)
    assert "accepted" in text
    assert "Birmingham" not in text
    assert "A1234BC" not in text
