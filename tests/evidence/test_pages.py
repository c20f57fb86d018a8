"""Evidence pages through the real forms (SQLite only; the API tests cover both backends):
a police analyst uploads and matches a batch, a caseworker reviews, an officer produces a
weekly overview and a signed evidence pack, the programme lead reads the statistics."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import log_in
from tests.demo_pilot import persons
from tests.evidence import registry
from tests.evidence.test_api import CRIMES, PASSWORD, store_walk, wmp_wearer
from tests.evidence.test_pack import make_violation
from tests.people.visible_text import PERSON_ID, visible_text
from vigil.bootstrap import Container
from vigil.evidence import pack, packs
from vigil.security.model import Role
from vigil.sim.demo import DEMO_PASSWORD


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "vigil.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def test_police_upload_shows_row_errors_then_match_review_and_export(
    client: TestClient, container: Container
) -> None:
    person = wmp_wearer(container)
    store_walk(container, person)
    registry.add_user(container, "pc.wmp", Role.POLICE, PASSWORD, force_area="WMP")
    registry.add_user(container, "caseworker", Role.ANALYST, PASSWORD)
    csrf = log_in(client, "pc.wmp", PASSWORD)
    assert "Crime matching" in client.get("/").text

    missing = client.post(
        "/evidence/crime/upload",
        data={"csrf_token": csrf, "reason": "Operation Nightjar"},
        files={"file": ("", b"", "text/csv")},
    )
    assert missing.status_code == 422
    assert "govuk-error-summary" in missing.text
    assert "Choose a CSV file" in missing.text
    uploaded = client.post(
        "/evidence/crime/upload",
        data={"csrf_token": csrf, "reason": "Operation Nightjar"},
        files={"file": ("nightjar.csv", CRIMES.encode(), "text/csv")},
    )
    assert uploaded.status_code == 200, uploaded.text
    page = uploaded.text
    assert "2 of 4 rows were not kept" in page
    assert 'id="row-4"' in page
    assert "The other 2 rows were kept" in page

    batch_url = str(uploaded.url).split("?")[0]
    batch_id = batch_url.rsplit("/", 1)[1]
    no_reason = client.post(
        f"/evidence/crime/batches/{batch_id}/run",
        data={"csrf_token": csrf, "radius_m": "eighty", "reason": ""},
    )
    assert no_reason.status_code == 422
    assert "Enter a number" in no_reason.text
    assert "Say why you are running this match" in no_reason.text
    ran = client.post(
        f"/evidence/crime/batches/{batch_id}/run",
        data={"csrf_token": csrf, "radius_m": "80", "reason": "Nightly match"},
    )
    assert ran.status_code == 200
    assert "WM-001 – Lee Walsh (CRN W123456)" in ran.text
    assert "<svg" in ran.text
    assert "Confirm" in ran.text, "police review their own force's matches"
    run_id = re.search(r"/evidence/crime/runs/(\d+)", str(ran.url)).group(1)  # type: ignore[union-attr]
    # Without a reason the run page asks for one first.
    asked = client.get(f"/evidence/crime/runs/{run_id}")
    assert "Why do you need this?" in asked.text

    client.cookies.clear()
    csrf = log_in(client, "caseworker", PASSWORD)
    page = client.get(f"/evidence/crime/runs/{run_id}", params={"reason": "Review for CPS"}).text
    match_id = re.search(r'id="match-(\d+)"', page).group(1)  # type: ignore[union-attr]
    discard = client.post(
        f"/evidence/crime/matches/{match_id}/review",
        data={"csrf_token": csrf, "run_id": run_id, "decision": "discarded", "reason": "Review"},
    )
    assert discard.status_code == 422
    assert "say why the match is discarded" in discard.text
    assert f'id="note-{match_id}-error"' in discard.text
    confirmed = client.post(
        f"/evidence/crime/matches/{match_id}/review",
        data={
            "csrf_token": csrf,
            "run_id": run_id,
            "decision": "confirmed",
            "note": "Fits the CCTV",
            "reason": "Review for CPS",
        },
    )
    assert "<strong>1</strong> confirmed" in confirmed.text
    exported = client.get(
        f"/evidence/crime/runs/{run_id}/export", params={"format": "csv", "reason": "For CPS"}
    )
    assert "WM-001" in exported.text
    assert "Fits the CCTV" in exported.text


def test_an_officer_produces_a_weekly_overview_and_a_signed_pack_from_the_person_page(
    client: TestClient, container: Container
) -> None:
    person, episode, _ids = make_violation(container)
    csrf = log_in(client, "officer", DEMO_PASSWORD)  # Birmingham North manages person 1
    page = client.get(f"/evidence/persons/{person}")
    assert page.status_code == 200
    assert f'value="{episode}"' in page.text

    refused = client.post(
        f"/evidence/persons/{person}/packs",
        data={"csrf_token": csrf, "violation_id": episode, "reason": ""},
    )
    assert refused.status_code == 422
    assert 'id="pack_reason-error"' in refused.text
    made = client.post(
        f"/evidence/persons/{person}/packs",
        data={"csrf_token": csrf, "violation_id": episode, "reason": "Recall request"},
    )
    assert made.status_code == 200, made.text
    assert "Evidence pack signed" in made.text
    links = re.findall(r'href="(/evidence/packs/[^"]+)"', made.text)
    document = client.get(links[1].replace("&amp;", "&"))
    check = pack.verify(document.content, packs.trusted_keys(container.settings))
    assert check.intact
    assert check.trusted
    assert check.sha256 in made.text
    pdf = client.get(links[0].replace("&amp;", "&"))
    assert pdf.content.startswith(b"%PDF")

    # The overview covers the week up to now: made once the violation is over, it shows it.
    container.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    week = (container.clock.now() - timedelta(days=container.clock.now().weekday())).date()
    weekly = client.post(
        f"/evidence/persons/{person}/weekly",
        data={"csrf_token": csrf, "week_start": week.isoformat(), "reason": "Supervision"},
    )
    assert "Weekly overview ready" in weekly.text
    html_link = re.search(r'href="(/evidence/weekly/[^"]+format=html)"', weekly.text).group(1)  # type: ignore[union-attr]
    overview = client.get(html_link.replace("&amp;", "&"))
    assert "Weekly movement overview" in overview.text
    assert "Entered an exclusion zone" in overview.text

    # The Coventry officer's caseload does not include person 1.
    client.cookies.clear()
    log_in(client, "officer.coventry", DEMO_PASSWORD)
    assert client.get(f"/evidence/persons/{person}").status_code == 404


def test_the_programme_lead_reads_statistics_and_others_cannot(
    client: TestClient, container: Container
) -> None:
    registry.add_user(container, "lead", Role.ADMIN, PASSWORD)
    registry.add_user(container, "operator", Role.MONITORING_OPERATOR, PASSWORD)
    log_in(client, "operator", PASSWORD)
    assert client.get("/evidence/statistics").status_code == 403
    client.cookies.clear()
    log_in(client, "lead", PASSWORD)
    form = client.get("/evidence/statistics")
    assert "Why do you need these figures?" in form.text
    bad = client.get(
        "/evidence/statistics", params={"start": "2026-12-01", "end": "2026-11-01", "reason": "x"}
    )
    assert bad.status_code == 422
    good = client.get(
        "/evidence/statistics",
        params={"start": "2026-11-01", "end": "2026-12-01", "reason": "Quarterly board"},
    )
    assert 'id="violations"' in good.text
    assert "<svg" in good.text
    csv_link = re.search(r'id="csv-link" href="([^"]+)"', good.text).group(1)  # type: ignore[union-attr]
    sheet = client.get(csv_link.replace("&amp;", "&"))
    assert sheet.text.startswith("measure,group,subgroup,value")


def test_the_demo_seeds_one_west_midlands_batch_with_two_rejected_rows(
    client: TestClient, container: Container
) -> None:
    from vigil.evidence import demo

    batch_id = demo.seed(container)
    assert batch_id is not None
    assert demo.seed(container) is None, "seeding twice adds nothing"
    registry.add_user(container, "police.wmp", Role.POLICE, PASSWORD, force_area="WMP")
    log_in(client, "police.wmp", PASSWORD)
    page = client.get(f"/evidence/crime/batches/{batch_id}").text
    assert "2 of 26 rows were not kept" in page
    assert "West Midlands Police" in page


def test_the_evidence_pages_name_the_wearer_not_his_row_id(
    demo: Container, demo_client: TestClient
) -> None:
    wearer = min(persons(demo), key=lambda p: p.id)
    log_in(demo_client, "operator", DEMO_PASSWORD)
    page = demo_client.get(f"/evidence/persons/{wearer.id}")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert wearer.full_name in text
    assert PERSON_ID.findall(text) == []
