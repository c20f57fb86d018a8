"""The evidence pack PDF a court receives: made from the engine's own violation record, checked
by `vigil evidence verify` as handed out, and laid out to be read on paper."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.evidence.engine_violation import signed_pack, walk_through_the_zone
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.evidence import pack, packs


def _pdf(container: Container, document: bytes) -> bytes:
    return packs.pack_pdf(document, pack.verify(document, packs.trusted_keys(container.settings)))


def _verify(path: Path, *options: str) -> tuple[int, str]:
    from vigil.cli import app

    done = CliRunner().invoke(app, ["evidence", "verify", *options, str(path)])
    return done.exit_code, done.output


def test_verify_accepts_the_pdf_it_produced_and_knows_the_key_from_the_database(
    container: Container, clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked = walk_through_the_zone(container, clock)
    result = signed_pack(container, walked.episode_id)
    pdf = tmp_path / "evidence-pack-1.pdf"
    pdf.write_bytes(_pdf(container, result.document))
    # A production machine's settings with no signing key: only the database knows the key.
    monkeypatch.chdir(tmp_path)
    for name in ("VIGIL_ENVIRONMENT", "VIGIL_SECRET_KEY", "VIGIL_EVIDENCE_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VIGIL_DATABASE_URL", container.settings.database_url)

    code, output = _verify(pdf)
    assert code == 0, output
    assert "attached to this PDF" in output
    assert "signed by this system's key (Vigil test system key" in output
    assert result.sha256 in output

    code, output = _verify(pdf, "--database-url", f"sqlite:///{tmp_path / 'none.db'}")
    assert code == 3, output
    assert "does not know" in output
    assert not (tmp_path / "none.db").exists(), "checking a key creates no database"

    data = pdf.read_bytes()
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(data[: len(data) // 3])
    code, output = _verify(truncated)
    assert code == 1
    assert "NOT INTACT" in output
