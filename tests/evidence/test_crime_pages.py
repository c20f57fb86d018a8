"""Crime matching pages as a police user works them (SQLite, through the app's real forms): a file
in another format refused with its reason, crime types by name, confidence in words with its
reasons, and the police user's own review and export of what was confirmed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FIXTURES, log_in
from tests.evidence import registry
from tests.evidence.test_api import PASSWORD
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
