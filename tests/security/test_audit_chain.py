from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from vigil.bootstrap import Container
from vigil.cli import app as cli
from vigil.db.engine import build_engine
from vigil.security import audit
from vigil.security.tables import audit_log


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
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
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
    monkeypatch.setenv("VIGIL_ENVIRONMENT", "test")
    monkeypatch.setenv("VIGIL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VIGIL_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("VIGIL_FIELD_ENCRYPTION_KEYS", settings.field_encryption_keys)
    runner = CliRunner()
    clean = runner.invoke(cli, ["security", "audit", "verify"])
    assert clean.exit_code == 0, clean.output
    assert "intact" in clean.output
    _tamper(container, "UPDATE audit_log SET detail = '{}' , action='x' WHERE id = 2")
    broken = runner.invoke(cli, ["security", "audit", "verify"])
    assert broken.exit_code == 1
    assert "entry 2" in broken.output


def _cli_env(container: Container, monkeypatch: pytest.MonkeyPatch, checkpoint: Path) -> CliRunner:
    settings = container.settings
    monkeypatch.setenv("VIGIL_ENVIRONMENT", "test")
    monkeypatch.setenv("VIGIL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VIGIL_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("VIGIL_FIELD_ENCRYPTION_KEYS", settings.field_encryption_keys)
    monkeypatch.setenv("VIGIL_AUDIT_CHECKPOINT_PATH", str(checkpoint))
    return CliRunner()


def test_the_chain_is_keyed_so_an_edit_cannot_be_recomputed_without_the_key(
    container: Container,
) -> None:
    """The issue edited a row and recomputed every later hash with plain SHA-256: "intact"."""
    _write_entries(container, 4)
    _rewrite_entry_2(container, key=None)
    with container.engine.connect() as conn:
        report = audit.verify(conn)
    assert report.first_broken_id == 1


def _rewrite_entry_2(container: Container, key: bytes | None) -> None:
    """An attacker edits entry 2's actor and recomputes every hash from there on, with ``key``
    (None: plain SHA-256, as the unkeyed chain had it)."""
    with container.engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).all()
    prev = audit.GENESIS
    for row in rows:
        actor = "user:9:someone" if row.id == 2 else row.actor
        digest = audit.entry_hash(
            key, prev, row.id, row.at, actor, row.action, row.subject_type, row.subject_id,
            row.detail,
        )  # fmt: skip
        _tamper(
            container,
            f"UPDATE audit_log SET actor = '{actor}', prev_hash = '{prev}', hash = '{digest}' "  # noqa: S608 - test values
            f"WHERE id = {row.id}",
        )
        prev = digest


def test_verify_detects_truncation_against_the_signed_checkpoint(
    container: Container, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "audit-checkpoints.jsonl"
    runner = _cli_env(container, monkeypatch, checkpoint)
    _write_entries(container, 6)
    written = runner.invoke(cli, ["security", "audit", "checkpoint"])
    assert written.exit_code == 0, written.output
    assert "intact" in runner.invoke(cli, ["security", "audit", "verify"]).output
    # Deleting the newest rows leaves a chain that links up perfectly, and is still caught.
    _tamper(container, "DELETE FROM audit_log WHERE id > 4")
    with container.engine.connect() as conn:
        assert audit.verify(conn).intact
    broken = runner.invoke(cli, ["security", "audit", "verify"])
    assert broken.exit_code == 1
    assert "truncated" in broken.output


def test_verify_detects_recomputation_by_a_key_holder(
    container: Container, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Even someone holding the chain key who rewrites and re-links every row is caught: the
    checkpoint signed before the edit names a hash the chain no longer has."""
    checkpoint = tmp_path / "audit-checkpoints.jsonl"
    runner = _cli_env(container, monkeypatch, checkpoint)
    _write_entries(container, 3)
    assert runner.invoke(cli, ["security", "audit", "checkpoint"]).exit_code == 0
    _rewrite_entry_2(container, key=audit.audit_key(container.settings.secret_key))
    with container.engine.connect() as conn:
        assert audit.verify(conn).intact
    broken = runner.invoke(cli, ["security", "audit", "verify"])
    assert broken.exit_code == 1
    assert "recomputed" in broken.output


def test_a_checkpoint_not_signed_by_this_system_is_refused(
    container: Container, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "audit-checkpoints.jsonl"
    runner = _cli_env(container, monkeypatch, checkpoint)
    _write_entries(container, 2)
    assert runner.invoke(cli, ["security", "audit", "checkpoint"]).exit_code == 0
    line = json.loads(checkpoint.read_text().splitlines()[-1])
    line["last_id"] = 1
    checkpoint.write_text(json.dumps(line) + "\n")
    broken = runner.invoke(cli, ["security", "audit", "verify"])
    assert broken.exit_code == 1
    assert "not signed by this system" in broken.output


def _older_vigils_entries(container: Container, count: int) -> None:
    """Entries as a Vigil from before the keyed chain wrote them: plain SHA-256."""
    older = build_engine(container.settings.database_url)
    with older.begin() as conn:
        for n in range(count):
            audit.record(
                conn,
                at=container.clock.now(),
                actor="user:1:tester",
                action="person.view",
                subject_type="person",
                subject_id=n,
            )
    older.dispose()


def test_a_log_begun_before_the_keyed_chain_verifies_once_its_old_entries_are_named(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    _older_vigils_entries(container, 3)
    _write_entries(container, 2)  # the upgraded Vigil carries on, keyed
    with container.engine.connect() as conn:
        assert audit.verify(conn).first_broken_id == 1
        assert audit.unkeyed_prefix(conn) == 3
    runner = _cli_env(container, monkeypatch, Path("unused"))
    monkeypatch.delenv("VIGIL_AUDIT_CHECKPOINT_PATH")
    advised = runner.invoke(cli, ["security", "audit", "verify"])
    assert advised.exit_code == 1
    assert "VIGIL_AUDIT_UNKEYED_UNTIL=3" in advised.output
    monkeypatch.setenv("VIGIL_AUDIT_UNKEYED_UNTIL", "3")
    clean = runner.invoke(cli, ["security", "audit", "verify"])
    assert clean.exit_code == 0, clean.output
    assert "intact: 5 entries" in clean.output


def test_rewriting_the_whole_log_the_unkeyed_way_does_not_pass_for_history(
    container: Container,
) -> None:
    _older_vigils_entries(container, 3)
    _write_entries(container, 3)
    audit.install_key(container.engine, audit.audit_key(container.settings.secret_key), 3)
    with container.engine.connect() as conn:
        assert audit.verify(conn).intact
    # Someone without the key edits entry 2 and recomputes every hash the old way.
    _rewrite_entry_2(container, key=None)
    with container.engine.connect() as conn:
        report = audit.verify(conn)
    assert report.first_broken_id == 4
