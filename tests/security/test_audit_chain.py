from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from vigil.bootstrap import Container
from vigil.cli import app as cli
from vigil.security import audit


def _write_entries(container: Container, count: int) -> None:
    with container.uow() as uow:
        for n in range(count):
            audit.record(
                uow.connection,
                at=uow.clock.now(),
                actor="user:1:tester",
                action="person.view",
                subject_type="person",
                subject_id=n,
            )
        uow.commit()


def test_a_clean_log_verifies(container: Container) -> None:
    _write_entries(container, 5)
    with container.engine.connect() as conn:
        report = audit.verify(conn)
    assert report.intact
    assert report.entries == 5


def test_the_database_refuses_edits_to_the_log(container: Container) -> None:
    _write_entries(container, 2)
    with pytest.raises(Exception, match="append-only"), container.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE id = 1"))


def _tamper(container: Container, statement: str) -> None:
    """Simulates an attacker with owner rights, who can get round the append-only triggers."""
    with container.engine.begin() as conn:
        if container.engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
            conn.execute(text(statement))
        else:
            # Re-enabled in the same transaction, so the shared test schema keeps its guard.
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            conn.execute(text(statement))
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def test_verify_names_the_altered_entry(container: Container) -> None:
    _write_entries(container, 5)
    _tamper(container, "UPDATE audit_log SET actor = 'user:9:someone' WHERE id = 3")
    with container.engine.connect() as conn:
        report = audit.verify(conn)
    assert report.first_broken_id == 3
    assert "altered" in str(report.reason)


def test_verify_names_the_entry_after_a_removed_one(container: Container) -> None:
    _write_entries(container, 5)
    _tamper(container, "DELETE FROM audit_log WHERE id = 2")
    with container.engine.connect() as conn:
        report = audit.verify(conn)
    assert report.first_broken_id == 3


def test_cli_audit_verify_reports_the_broken_row(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_entries(container, 4)
    settings = container.settings
    monkeypatch.setenv("VIGIL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VIGIL_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("VIGIL_FIELD_ENCRYPTION_KEYS", settings.field_encryption_keys)
    runner = CliRunner()
    clean = runner.invoke(cli, ["audit", "verify"])
    assert clean.exit_code == 0, clean.output
    assert "intact" in clean.output
    _tamper(container, "UPDATE audit_log SET detail = '{}' , action='x' WHERE id = 2")
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "entry 2" in broken.output
