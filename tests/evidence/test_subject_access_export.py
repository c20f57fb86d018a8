"""A subject access export gives the wearer his own data and nothing that points at the people
his order protects."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import log_in
from tests.demo_pilot import exclusion_zone, person_in
from tests.tracking.helpers import fix
from vigil.bootstrap import Container
from vigil.security.tables import audit_log
from vigil.sim.demo import DEMO_PASSWORD
from vigil.tracking import store


def test_the_export_withholds_positions_near_a_protected_place_and_is_audited(
    demo: Container, demo_client: TestClient
) -> None:
    wearer = person_in(demo, "Birmingham North")
    _condition, zone = exclusion_zone(demo, wearer.id)
    lon, lat = zone["geometry"]["coordinates"]  # type: ignore[index]
    now = demo.clock.now()
    with demo.uow() as uow:
        store.append(
            uow,
            [
                fix("EXPORT-1", now - timedelta(hours=2), lat=lat, lon=lon),  # at her door
                fix("EXPORT-1", now - timedelta(hours=1), lat=lat + 0.3, lon=lon),  # 33 km off
            ],
            [str(wearer.id)] * 2,
        )
        uow.commit()

    log_in(demo_client, "admin", DEMO_PASSWORD)
    response = demo_client.get(f"/api/evidence/persons/{wearer.id}/subject-access")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    files = zipfile.ZipFile(io.BytesIO(response.content))
    assert set(files.namelist()) == {
        "README.txt", "about.json", "trail.geojson", "trail.csv", "alerts.csv", "summary.pdf"
    }  # fmt: skip
    trail = files.read("trail.csv").decode()
    assert f"{lat + 0.3:.4f}"[:7] in trail
    everything = b"".join(files.read(name) for name in files.namelist() if name != "summary.pdf")
    for coordinate in (f"{lat:.4f}", f"{lon:.4f}"):
        assert coordinate.encode() not in everything, "the zone's place must not be in the export"
    assert b"withheld" in files.read("README.txt")
    assert files.read("summary.pdf").startswith(b"%PDF")
    with demo.engine.connect() as conn:
        actions = list(conn.execute(select(audit_log.c.action)).scalars())
    assert "person.subject_access_export" in actions

    demo_client.cookies.clear()
    log_in(demo_client, "operator", DEMO_PASSWORD)
    assert demo_client.get(f"/api/evidence/persons/{wearer.id}/subject-access").status_code == 403
