"""Splink linkage: every messy way a man is written down is joined, through ``vigil harm rank``;
namesakes stay apart; each link says why; the model is stored and decisions survive re-runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import log_in
from tests.harm.other_hand import Spec, generate
from tests.harm.test_pages import PASSWORD, _user
from vigil.bootstrap import Container
from vigil.cli import app
from vigil.harm import linkage
from vigil.harm.decisions import split
from vigil.harm.file_frame import resolved_frame
from vigil.harm.incident_import import import_incidents
from vigil.harm.model import INCIDENT_COLUMNS, LinkReason, PartyRole
from vigil.harm.records import person_records
from vigil.harm.resolution import ResolutionStats
from vigil.harm.runs import compute_run
from vigil.harm.tables import harm_linkage_models, harm_runs
from vigil.security.model import Principal, Role

ANALYST = Principal(id=1, name="analyst", role=Role.ANALYST)

AS_OF = "2025-01-01"
HEADER = ",".join(INCIDENT_COLUMNS)

# Stephen Edwards, born 16 January 1978: his first record has his police id, the others do not.
FIRST = (
    "R1,2024-01-05,DYF,ABH,Violence with injury,true,false,false,81/123456A,Stephen Edwards,"
    "1978-01-16,,Sian Wynne,1990-03-02,true,false"
)
MESSY = {
    "initial": ("S. Edwards", "1978-01-16"),
    "surname_first": ("EDWARDS, Stephen", "1978-01-16"),
    "doubled_letter": ("Stephen Eddwards", "1978-01-16"),
    "dropped_letter": ("Stephen Edwads", "1978-01-16"),
    "lower_case": ("stephen edwards", "1978-01-16"),
    "day_month_transposed": ("Stephen Edwards", "1978-16-01"),  # not a date: see below
    "british_date": ("Stephen Edwards", "16/01/1978"),
    "swapped_no_comma": ("Edwards Stephen", "1978-01-16"),
    "nickname": ("Steve Edwards", "1978-01-16"),
}
# 16 January cannot be transposed into a valid date; a man born 5 March is, as 3 May.
TRANSPOSED = (
    FIRST.replace("81/123456A", "81/654321B").replace("1978-01-16", "1978-03-05"),
    "Stephen Edwards",
    "1978-05-03",
)


def _row(ref: str, name: str, dob: str, when: str = "2024-06-01") -> str:
    return (
        f'{ref},{when},DYF,Rape,Rape,true,false,true,,"{name}",{dob},,Sian Wynne,1990-03-02,'
        "false,false"
    )


def _rank(tmp_path: Path, lines: list[str]) -> pl.DataFrame:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("\n".join([HEADER, *lines]) + "\n")
    result = CliRunner().invoke(
        app, ["harm", "rank", str(source), "--as-of", AS_OF, "--top", "50", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return pl.read_csv(out)


@pytest.mark.parametrize("kind", sorted(MESSY))
def test_vigil_harm_rank_joins_each_messy_way_of_writing_him(tmp_path: Path, kind: str) -> None:
    first, (name, dob) = FIRST, MESSY[kind]
    if kind == "day_month_transposed":
        first, name, dob = TRANSPOSED
    ranked = _rank(tmp_path, [first, _row("R2", name, dob)])
    assert ranked.height == 1, ranked.select("person_id")
    assert ranked["person_id"][0] in {"81/123456A", "81/654321B"}
    assert "2 domestic-abuse incidents" in ranked["explanation"][0]


def test_two_men_with_a_common_name_and_different_dates_of_birth_stay_apart(
    tmp_path: Path,
) -> None:
    lines = [
        _row("J1", "John Smith", "1971-04-12", "2024-02-01"),
        _row("J2", "John Smith", "1971-04-12", "2024-05-01"),
        _row("J3", "John Smith", "1985-09-30", "2024-03-01"),
        _row("J4", "SMITH, John", "1985-09-30", "2024-07-01"),
    ]
    ranked = _rank(tmp_path, lines)
    assert ranked.height == 2
    assert all("2 domestic-abuse incidents" in e for e in ranked["explanation"])


def test_each_probabilistic_link_carries_its_probability_and_weights() -> None:
    from tests.harm.test_resolution import rec
    from vigil.harm.resolution import resolve

    born = datetime(1978, 1, 16).date()
    out = {
        r.id: r
        for r in resolve([rec(1, "Stephen Edwards", born, "X1"), rec(2, "S. Edwards", born)])
    }
    linked = out[2] if out[2].reason is LinkReason.PROBABLE_MATCH else out[1]
    assert linked.reason is LinkReason.PROBABLE_MATCH
    assert linked.evidence is not None
    evidence = linkage.LinkEvidence.from_json(linked.evidence)
    assert evidence.probability == pytest.approx(linked.score)
    levels = {name: level for name, level, _ in evidence.weights}
    assert levels["forename"] == "initial against full name"
    assert levels["surname"] == "exact"
    assert levels["dob"] == "exact"
    total = evidence.prior_weight + sum(w for _, _, w in evidence.weights)
    assert total == pytest.approx(evidence.match_weight, abs=0.01)
    steps = linkage.waterfall(evidence)
    assert steps[-1].end == pytest.approx(evidence.match_weight, abs=0.01)


def test_a_large_load_trains_its_own_model_reproducibly() -> None:
    data = generate(Spec(persons=4_500, planted=0, namesakes=0, seed=5))
    from tests.harm.other_hand import csv_bytes
    from vigil.harm.harm_index import default_index
    from vigil.harm.importer import parse_incidents

    parsed = parse_incidents(csv_bytes(data), datetime(2026, 1, 1, tzinfo=UTC))
    models = []
    for _ in range(2):
        stats = [ResolutionStats(), ResolutionStats()]
        resolved_frame(parsed.rows, default_index(), stats)
        assert stats[0].model_trained
        models.append(json.dumps(stats[0].model, sort_keys=True))
    assert models[0] == models[1]  # u by seeded random sampling, m by EM: the same both times


def _import(container: Container, lines: list[str]) -> None:
    content = ("\n".join([HEADER, *lines]) + "\n").encode()
    with container.uow() as uow:
        import_incidents(uow, container.cipher, content, filename="t.csv", principal=ANALYST)
        uow.commit()


def test_the_model_is_stored_with_each_resolution_and_each_run(container: Container) -> None:
    _import(container, [FIRST, _row("R2", "S. Edwards", "1978-01-16")])
    with container.uow() as uow:
        run_id = compute_run(uow, as_of=datetime(2025, 1, 1, tzinfo=UTC), principal=ANALYST)
        models = uow.connection.execute(harm_linkage_models.select()).all()
        run = uow.connection.execute(harm_runs.select().where(harm_runs.c.id == run_id)).one()
    assert {m.role for m in models} == {PartyRole.SUSPECT.value}  # victims: the rules
    suspects = [m for m in models if m.role == PartyRole.SUSPECT.value]
    assert run.linkage_model_id == suspects[-1].id
    assert json.loads(suspects[-1].model)["comparisons"]


def test_a_split_survives_a_re_run_and_the_model_is_reused(container: Container) -> None:
    _import(container, [FIRST, _row("R2", "S. Edwards", "1978-01-16")])
    with container.uow() as uow:
        records = person_records(uow, "81/123456A", ANALYST)
    assert len(records) == 2
    initial = next(r for r in records if r.name == "S. Edwards")
    with container.uow() as uow:
        key = split(
            uow,
            container.cipher,
            role=PartyRole.SUSPECT,
            identity_id=initial.identity_id,
            reason="a different man",
            principal=ANALYST,
        )
        uow.commit()
    assert key != "81/123456A"
    _import(container, [_row("R3", "Stephen Edwards", "1978-01-16", "2024-08-01")])
    with container.uow() as uow:
        records = person_records(uow, "81/123456A", ANALYST)
    assert initial.identity_id not in {r.identity_id for r in records}
    with container.uow() as uow:
        triggers = [
            m.trigger
            for m in uow.connection.execute(
                harm_linkage_models.select().where(
                    harm_linkage_models.c.role == PartyRole.SUSPECT.value
                )
            )
        ]
    assert triggers == ["import", "split", "import"]


def test_the_person_page_shows_why_records_were_joined(
    client: TestClient, container: Container
) -> None:
    _import(container, [FIRST, _row("R2", "S. Edwards", "1978-01-16")])
    _user(container, "ana", Role.ANALYST)
    log_in(client, "ana", PASSWORD)
    page = client.get("/harm/person/81/123456A")
    assert page.status_code == 200
    html = page.text
    assert "Why records were joined" in html
    assert "initial against full name" in html
    assert "<svg" in html
    assert "harm-waterfall" in html
    assert "Before comparing" in html
