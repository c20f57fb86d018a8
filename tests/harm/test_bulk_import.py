"""The stored path's bulk loading: indexes rebuilt around a big load, the page cache restored,
an import in parts resolving as one, and nothing half-written when a load fails."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Table, func, inspect, select

from tests.harm.test_import_and_runs import GOOD, csv, import_
from vigil.bootstrap import Container
from vigil.db.uow import UnitOfWork
from vigil.harm import bulk
from vigil.harm.records import person_records
from vigil.harm.tables import harm_identities, harm_incidents
from vigil.security.model import Principal, Role

ANALYST = Principal(id=1, name="analyst", role=Role.ANALYST)


def _index_names(container: Container, table: str) -> set[str]:
    return {str(ix["name"]) for ix in inspect(container.engine).get_indexes(table)}


def _people(container: Container) -> set[tuple[str, frozenset[str]]]:
    """Who is who, independent of the numbers given to records: each person's set of records."""
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(
                harm_identities.c.role, harm_identities.c.person_key, harm_identities.c.exact_key
            )
        ).all()
    persons: dict[tuple[str, str], set[str]] = {}
    for role, key, exact in rows:
        persons.setdefault((role, key), set()).add(exact)
    return {(role, frozenset(records)) for (role, _), records in persons.items()}


def test_a_big_import_rebuilds_the_plain_indexes_and_keeps_them(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _index_names(container, "harm_identities") | _index_names(container, "harm_incidents")
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 1)  # every load counts as big
    report = import_(container, csv(*GOOD))
    assert report.added == 4
    after = _index_names(container, "harm_identities") | _index_names(container, "harm_incidents")
    assert "ix_harm_identities_role_person_key" in after
    assert "ix_harm_incidents_suspect_identity_id" in after
    assert after == before
    # The rebuilt index answers: the perpetrator's records are found by person key.
    with container.uow() as uow:
        records = person_records(uow, "84/1A", principal=ANALYST)
    assert {r.source_id for r in records} == {"84/1A", None}


def test_a_failed_big_load_leaves_nothing_and_the_indexes_in_place(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 1)
    before = _index_names(container, "harm_incidents")

    real = bulk.bulk_insert

    def fail_on_incidents(uow: UnitOfWork, table: Table, frame: pl.DataFrame) -> None:
        if table is harm_incidents:
            raise RuntimeError("disk full")
        real(uow, table, frame)

    monkeypatch.setattr(bulk, "bulk_insert", fail_on_incidents)
    with pytest.raises(RuntimeError):
        import_(container, csv(*GOOD))
    with container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(harm_identities)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(harm_incidents)).scalar() == 0
    assert _index_names(container, "harm_incidents") == before


def test_the_import_connection_gets_its_page_cache_back(container: Container) -> None:
    if container.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite connection setting")
    with container.uow() as uow:
        default = uow.connection.exec_driver_sql("PRAGMA cache_size").scalar()
        with bulk.bulk_load(uow):
            during = uow.connection.exec_driver_sql("PRAGMA cache_size").scalar()
        after = uow.connection.exec_driver_sql("PRAGMA cache_size").scalar()
    assert during == -bulk.BULK_CACHE_KIB
    assert after == default != during


def test_importing_in_parts_resolves_as_importing_at_once(container: Container) -> None:
    # Parts: the stored victims are decrypted and re-matched with the new ones.
    import_(container, csv(*GOOD[:1]))
    import_(container, csv(*GOOD[1:3]))
    last = import_(container, csv(*GOOD))
    assert (last.added, last.unchanged) == (1, 3)
    in_parts = _people(container)
    assert len(in_parts) == 4
    assert last.suspects.persons == 2
    assert last.victims.persons == 2
    with container.engine.begin() as conn:
        conn.execute(harm_incidents.delete())
        conn.execute(harm_identities.delete())
    import_(container, csv(*GOOD))
    assert _people(container) == in_parts
