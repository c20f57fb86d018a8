"""The demo knows postcodes: its seeding loads the fixtures' ONS Postcode Directory extract, so
"Find postcode" places a zone in the demo; without a directory the editor says look-up is not
available and how to place the zone instead (never to run a command)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import log_in
from tests.demo_pilot import person_in
from vigil.bootstrap import Container
from vigil.geo import postcodes
from vigil.sim import demo_postcodes
from vigil.sim.demo import DEMO_PASSWORD


def test_the_demo_finds_postcodes(demo: Container, demo_client: TestClient) -> None:
    with demo.uow() as uow:
        assert postcodes.count(uow) == 8048
    log_in(demo_client, "officer", DEMO_PASSWORD)
    found = demo_client.get("/postcodes/ab10 1af")
    assert found.status_code == 200, found.text
    assert found.json()["postcode"] == "AB10 1AF"
    assert demo_client.get("/postcodes/SE1%202DL").json()["lat"] == 51.498972
    form = demo_client.get(f"/persons/{person_in(demo, 'Birmingham North').id}/orders/new")
    assert "not available" not in form.text
    assert "vigil geo" not in form.text
    assert demo_postcodes.seed(demo) == 0  # a directory already there is left as it is


def test_without_a_directory_the_hint_says_how_to_place_the_zone(
    demo: Container, demo_client: TestClient
) -> None:
    with demo.uow() as uow:
        uow.connection.execute(postcodes.postcodes.delete())
        uow.commit()
    log_in(demo_client, "officer", DEMO_PASSWORD)
    form = demo_client.get(f"/persons/{person_in(demo, 'Birmingham North').id}/orders/new")
    hint = re.search(r'id="exclusion_postcode-hint"[^>]*>(.*?)</div>', form.text, re.S)
    assert hint is not None
    assert "Finding by postcode is not available yet" in hint.group(1)
    assert "latitude and longitude" in hint.group(1)
    assert "<code>" not in hint.group(1)
    assert "vigil geo" not in form.text
