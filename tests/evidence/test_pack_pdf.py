"""The evidence pack PDF a court receives: made from the engine's own violation record, checked
by `vigil evidence verify` as handed out, and laid out to be read on paper."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.evidence.engine_violation import signed_pack, walk_through_the_zone
from tests.evidence.print_layout import off_the_page
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


def test_the_pack_for_a_court_reads_in_words_and_stays_on_the_page(
    container: Container, clock: FrozenClock
) -> None:
    from vigil.evidence.pack_print import pack_html
    from vigil.people import service as people

    walked = walk_through_the_zone(container, clock)
    result = signed_pack(container, walked.episode_id)
    evidence = json.loads(result.document)["evidence"]
    html = pack_html(result.document, pack.verify(result.document))
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())

    assert off_the_page(html) == []
    # The engine's own record is cited, its reasoning shown.
    assert evidence["violation"]["source"] == "engine"
    assert evidence["violation"]["id"] == walked.episode_id
    reason = evidence["reasoning"]["engine_detail"]["reason"]
    assert reason
    assert reason in text
    assert "Rule that confirmed it" in text
    inside = evidence["reasoning"]["certainly_inside"]
    assert inside >= 3
    assert f"{inside} of {len(evidence['reasoning']['fixes_during'])} fixes" in text
    # The wearer by name and CRN, times in UK local time with the zone.
    with container.uow() as uow:
        wearer = people.persons_by_ids(uow, [1])[1]
    assert f"{wearer.full_name} (CRN {wearer.crn})" in text
    assert "Mon 23 Nov 2026" in text
    assert " GMT" in text
    # Device health in words, not keys and numbers.
    assert "The battery stayed between 66% and 74%." in text
    assert "battery_min_pct" not in text
    assert "longest_gap_s" not in text
    assert "The longest time between two fixes was 1 minute." in text
    # Escalations that changed no status read as one step.
    assert "new → new" not in text
    escalations = [h for h in evidence["alerts"][0]["history"] if h["action"] == "escalated"]
    assert len(escalations) >= 2, "the timer escalated the unanswered alert more than once"
    level = escalations[-1]["detail"]["level"]
    assert text.count("Escalated") == 1
    assert f"Escalated {len(escalations)} times, to level {level}" in text

    # A device event has no zone: why it stands is said in words, and periods without a
    # position say so instead of drawing an empty map.
    silent = next(e for e in walked.events if e.kind.value == "no_communication")
    event = signed_pack(container, silent.episode_id, silent.person_id)
    event_html = pack_html(event.document, pack.verify(event.document))
    event_text = " ".join(re.sub(r"<[^>]+>", " ", event_html).split())
    assert "The tag sent nothing at all from" in event_text
    assert event_text.count("No position was reported in this period.") == 3
    assert "<svg" not in event_html


def test_in_the_demo_folder_verify_knows_the_demo_key_from_the_demo_database(
    sqlite_container: Container,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlite3

    from sqlalchemy.engine import make_url

    walked = walk_through_the_zone(sqlite_container, clock)
    result = signed_pack(sqlite_container, walked.episode_id)
    folder = tmp_path / "demo-folder"
    folder.mkdir()
    # A consistent copy (the live database keeps recent writes in its write-ahead log).
    source = sqlite3.connect(str(make_url(sqlite_container.settings.database_url).database))
    with sqlite3.connect(folder / "vigil-demo.db") as copy:
        source.backup(copy)
    source.close()
    pdf = folder / "evidence-pack-1.pdf"
    pdf.write_bytes(_pdf(sqlite_container, result.document))
    # `vigil demo` ran here; verify runs with no settings at all (no demo environment).
    monkeypatch.chdir(folder)
    for name in ("VIGIL_ENVIRONMENT", "VIGIL_SECRET_KEY", "VIGIL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    code, output = _verify(pdf)
    assert code == 0, output
    assert "known from the packs in the demo's database" in output
    assert "signed by this system's key" in output
    assert not (folder / "vigil.db").exists()
