"""The memory index behind the call and mail checks: warmed at start-up, compact, and never
the only word on a refusal (the database confirms)."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import make_settings
from tests.contact.helpers import bearer, case_id_for, submit, tokens
from vigil.bootstrap import Container, build_container
from vigil.contact import warmup
from vigil.contact.index import PhoneTable
from vigil.contact.tables import contact_attempts
from vigil.web.app import create_app


def _bar(client: TestClient, token: str, case_id: int, **body: object) -> int:
    response = client.post(
        f"/api/contact/cases/{case_id}/bars",
        json={"reason": "Victim is frightened", **body},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    bar_id: int = response.json()["bar_id"]
    return bar_id


def _allowed(client: TestClient, token: str, prison_number: str, number: str) -> bool:
    response = client.post(
        "/api/contact/call-check",
        json={"prison_number": prison_number, "number": number},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    allowed: bool = response.json()["allowed"]
    return allowed


def _attempts(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(contact_attempts)).scalar_one())


def test_warm_index_refuses_every_format_by_scope_and_lets_lifted_numbers_through(
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
    estate = _bar(client, keys["handler"], case_id, scope="estate", numbers=["07700 900456"])
    index = warmup.warm(container.enforcement_index, container.engine)
    assert index.warm
    assert len(index.phone_table) == 2
    for dialled in ("+44 (0)7700 900123", "07700 900123", "0044 7700 900123", "447700900123"):
        assert not _allowed(client, keys["prison"], "A1234BC", dialled)
    assert _allowed(client, keys["prison"], "B2345CD", "07700 900123")
    assert not _allowed(client, keys["prison"], "B2345CD", "07700 900456")
    assert _allowed(client, keys["prison"], "A1234BC", "07700 900999")
    assert _attempts(container) == 5
    response = client.post(
        f"/api/contact/bars/{estate}/lift",
        json={"reason": "Victim asked"},
        headers=bearer(keys["handler"]),
    )
    assert response.status_code == 200
    assert _allowed(client, keys["prison"], "B2345CD", "07700 900456")


def test_before_the_index_is_warm_checks_ask_the_database_and_record_refusals(
    client: TestClient, container: Container
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    _bar(
        client,
        keys["handler"],
        case_id,
        scope="estate",
        numbers=["07700 900123"],
        addresses=[{"lines": ["Flat 2", "14 High Street", "Birmingham"], "postcode": "B1 1AA"}],
    )
    assert not container.enforcement_index.warm
    assert not _allowed(client, keys["prison"], "C3456DE", "07700900123")
    assert _allowed(client, keys["prison"], "C3456DE", "07700900999")
    assert _attempts(container) == 1
    held = client.post(
        "/api/contact/mail-check",
        json={"prison_number": "A1234BC", "address": "J Doe, Flat 2, 14 High St, B'ham B11AA"},
        headers=bearer(keys["prison"]),
    )
    assert held.json()["allowed"] is False
    assert _attempts(container) == 2


def test_a_lift_in_another_process_is_never_refused_from_a_stale_index(
    client: TestClient, container: Container, db_url: str
) -> None:
    keys = tokens(container)
    case_id = case_id_for(client, keys["handler"], submit(client))
    bar_id = _bar(client, keys["handler"], case_id, scope="estate", numbers=["07700 900123"])
    index = warmup.warm(container.enforcement_index, container.engine)
    index.max_age = 3600.0  # this process will not look for other processes' changes
    other = build_container(make_settings(db_url), clock=container.clock)
    try:
        with TestClient(create_app(other)) as c2:
            lifted = c2.post(
                f"/api/contact/bars/{bar_id}/lift",
                json={"reason": "Victim asked"},
                headers=bearer(keys["handler"]),
            )
            assert lifted.status_code == 200
            new_bar = _bar(c2, keys["handler"], case_id, scope="estate", numbers=["07700 900777"])
            assert new_bar
    finally:
        other.engine.dispose()
    # The digest is still in this process's index, but the database has the last word.
    assert _allowed(client, keys["prison"], "A1234BC", "07700 900123")
    assert _attempts(container) == 0
    # Bars made elsewhere are seen once the index follows the change feed.
    index.max_age = 0.0
    assert not _allowed(client, keys["prison"], "A1234BC", "07700 900777")


def test_warm_up_service_loads_the_index_at_start_up_and_stops_cleanly(
    container: Container,
) -> None:
    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(warmup.run(container.enforcement_index, container.engine, stop))
        for _ in range(200):
            if container.enforcement_index.warm:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    assert container.enforcement_index.warm


def test_phone_table_follows_additions_and_removals_and_compacts() -> None:
    table = PhoneTable()
    table.build([(5, 1), (-3, 2), (5, 3)])
    assert sorted(table.find(5)) == [1, 3]
    table.remove(5, 1)
    table.add(7, 4)
    table.add(-3, 5)
    assert table.find(5) == [3]
    assert sorted(table.find(-3)) == [2, 5]
    assert len(table) == 4
    table.COMPACT_AFTER = 0
    table.add(9, 6)  # compacts: everything now in the sorted arrays
    assert table.added == {}
    assert table.removed == set()
    assert sorted(table.find(-3)) == [2, 5]
    assert table.find(5) == [3]
    assert table.find(9) == [6]
    assert table.find(1) == []
    assert list(table.keys) == sorted(table.keys)
