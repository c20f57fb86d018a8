"""Crime matching pages as a police user works them (SQLite, through the app's real forms): a file
in another format refused with its reason, crime types by name, confidence in words with its
reasons, and the police user's own review and export of what was confirmed."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FIXTURES, log_in
from tests.evidence import registry
from tests.evidence.test_api import PASSWORD, SCENE, store_walk, wmp_wearer
from vigil.bootstrap import Container
from vigil.security.model import Role

MERSEYSIDE = FIXTURES / "crime" / "2021-08-merseyside-street.csv"


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "vigil.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def test_a_data_police_uk_file_is_refused_with_its_reason_and_nothing_is_stored(
    client: TestClient, container: Container
) -> None:
    registry.add_user(container, "pc.mersey", Role.POLICE, PASSWORD, force_area="MER")
    csrf = log_in(client, "pc.mersey", PASSWORD)
    # 629 rows of the real street-level download (fixtures README: data.police.uk, OGL v3.0).
    head = "".join(MERSEYSIDE.read_text().splitlines(keepends=True)[:630])
    refused = client.post(
        "/evidence/crime/upload",
        data={"csrf_token": csrf, "reason": "Operation Kestrel"},
        files={"file": ("2021-08-merseyside-street.csv", head.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    page = refused.text
    assert 'id="file-error"' in page
    assert "2021-08-merseyside-street.csv: The file&#39;s columns are not a crime batch" in page
    assert "missing reference, from, to" in page
    assert "not recognised: Crime ID, Month" in page
    assert "data.police.uk street-level crime download" in page
    assert "rows kept" not in page
    assert "No batches yet." in page


NIGHTJAR = (
    "reference,type,from,to,lat,lon\n"
    # The wearer walks through the scene at 21:00 GMT: placed there inside the window.
    f"WM-001,BIAD,2026-11-20 20:55,2026-11-20 21:05,{SCENE[0]},{SCENE[1]}\n"
    # The window ended 15 minutes before he passed: he is placed there only in the padding.
    f"WM-002,Theft from vehicle,2026-11-20 20:30,2026-11-20 20:45,{SCENE[0]},{SCENE[1]}\n"
)


def _review(
    client: TestClient, csrf: str, match_id: str, run_id: str, decision: str, note: str
) -> str:
    reviewed = client.post(
        f"/evidence/crime/matches/{match_id}/review",
        data={
            "csrf_token": csrf,
            "run_id": run_id,
            "decision": decision,
            "note": note,
            "reason": "Operation Nightjar review",
        },
    )
    assert reviewed.status_code == 200, reviewed.text
    return reviewed.text


def _match_section(page: str, reference: str) -> tuple[str, str]:
    """The match id and the HTML of the section for one crime reference."""
    for found in re.finditer(r'<section[^>]*id="match-(\d+)">(.*?)</section>', page, re.S):
        if reference in found.group(2):
            return found.group(1), found.group(2)
    raise AssertionError(f"no match for {reference}")


def test_a_police_user_reviews_their_matches_and_exports_what_they_confirmed(
    client: TestClient, container: Container
) -> None:
    person = wmp_wearer(container)
    store_walk(container, person)
    registry.add_user(container, "pc.wmp", Role.POLICE, PASSWORD, force_area="WMP")
    csrf = log_in(client, "pc.wmp", PASSWORD)
    uploaded = client.post(
        "/evidence/crime/upload",
        data={"csrf_token": csrf, "reason": "Operation Nightjar"},
        files={"file": ("nightjar.csv", NIGHTJAR.encode(), "text/csv")},
    )
    assert "All 2 rows kept" in uploaded.text
    batch_id = str(uploaded.url).split("?")[0].rsplit("/", 1)[1]
    ran = client.post(
        f"/evidence/crime/batches/{batch_id}/run",
        data={"csrf_token": csrf, "radius_m": "80", "reason": "Operation Nightjar review"},
    )
    run_id = re.search(r"/evidence/crime/runs/(\d+)", str(ran.url)).group(1)  # type: ignore[union-attr]
    page = ran.text
    assert "Confirm the matches the evidence supports" in page

    inside_id, inside = _match_section(page, "WM-001")
    assert "WM-001 – Lee Walsh (CRN W123456)" in inside
    assert "Burglary in a dwelling, 20 Nov 2026 20:55 GMT to 21:05 GMT" in inside
    assert "BIAD" not in inside
    assert "High (1.00)</strong>: placed within the radius during the crime window" in inside
    assert "Best fix at 21:00:00 GMT" in inside
    assert "Where: 0 m from the scene; with its 10 m accuracy the whole fix lies within" in inside
    assert "When: inside the crime window (× 1.0)." in inside
    assert "<svg" in inside  # each match beside its own map: the scene and the fixes there

    padding_id, padding = _match_section(page, "WM-002")
    assert "Theft from vehicle" in padding
    assert "Medium (0.60)" in padding
    assert "High" not in padding
    assert "When: 15 min after the crime window ended, in the padding (× 0.6)." in padding

    confirmed = _review(client, csrf, inside_id, run_id, "confirmed", "Fits the CCTV")
    assert "<strong>1</strong> confirmed" in confirmed
    assert "Confirmed by pc.wmp: Fits the CCTV" in confirmed
    discarded = _review(client, csrf, padding_id, run_id, "discarded", "Passed after the theft")
    assert "<strong>1</strong> discarded" in discarded

    exported = client.get(
        f"/evidence/crime/runs/{run_id}/export",
        params={"format": "csv", "reason": "Disclosure to the OIC"},
    )
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["crime_reference"], r["crime_type"], r["crime_type_code"]) for r in rows] == [
        ("WM-001", "Burglary in a dwelling", "BIAD")
    ]
    assert rows[0]["person_name"] == "Lee Walsh"
    assert rows[0]["label"] == "high"
    assert rows[0]["confidence_reasons"].startswith("Where: 0 m from the scene")
    assert rows[0]["review_note"] == "Fits the CCTV"


def test_police_of_another_force_cannot_review_a_match(
    client: TestClient, container: Container
) -> None:
    person = wmp_wearer(container)
    store_walk(container, person)
    registry.add_user(container, "pc.wmp", Role.POLICE, PASSWORD, force_area="WMP")
    registry.add_user(container, "pc.kent", Role.POLICE, PASSWORD, force_area="KNT")
    csrf = log_in(client, "pc.wmp", PASSWORD)
    uploaded = client.post(
        "/evidence/crime/upload",
        data={"csrf_token": csrf, "reason": "Operation Nightjar"},
        files={"file": ("nightjar.csv", NIGHTJAR.encode(), "text/csv")},
    )
    batch_id = str(uploaded.url).split("?")[0].rsplit("/", 1)[1]
    ran = client.post(
        f"/evidence/crime/batches/{batch_id}/run",
        data={"csrf_token": csrf, "radius_m": "80", "reason": "Operation Nightjar review"},
    )
    run_id = re.search(r"/evidence/crime/runs/(\d+)", str(ran.url)).group(1)  # type: ignore[union-attr]
    match_id, _ = _match_section(ran.text, "WM-001")

    client.cookies.clear()
    csrf = log_in(client, "pc.kent", PASSWORD)
    refused = client.post(
        f"/evidence/crime/matches/{match_id}/review",
        data={"csrf_token": csrf, "run_id": run_id, "decision": "confirmed", "reason": "Kent"},
    )
    assert refused.status_code == 404


def test_a_row_with_several_problems_is_one_link_target(
    client: TestClient, container: Container
) -> None:
    registry.add_user(container, "pc.wmp", Role.POLICE, PASSWORD, force_area="WMP")
    csrf = log_in(client, "pc.wmp", PASSWORD)
    text = (
        "reference,type,from,to,lat,lon\n"
        f"WM-001,BIAD,2026-11-20 20:55,2026-11-20 21:05,{SCENE[0]},{SCENE[1]}\n"
        "WM-002,Juggling,2026-11-20 22:00,2026-11-20 21:00,95.0,-1.8\n"
    )
    uploaded = client.post(
        "/evidence/crime/upload",
        data={"csrf_token": csrf, "reason": "Operation Nightjar"},
        files={"file": ("nightjar.csv", text.encode(), "text/csv")},
    )
    page = uploaded.text
    assert "1 of 2 rows were not kept" in page
    assert page.count('href="#row-3"') == 3, "each problem links to its row"
    assert page.count('id="row-3"') == 1, "one element carries the row's id"
