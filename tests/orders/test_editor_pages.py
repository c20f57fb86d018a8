"""The order editor: a zone placed by postcode, copying a day to all, polygons, field errors."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import log_in
from tests.demo_pilot import person_in
from vigil.bootstrap import Container
from vigil.geo import postcodes
from vigil.sim.demo import DEMO_PASSWORD

NOTTINGHAM = "Nottingham City"
BIRMINGHAM = "Birmingham North"


def _order_form(client: TestClient, person_id: int) -> dict[str, Any]:
    page = client.get(f"/persons/{person_id}/orders/new")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    data: dict[str, Any] = {
        "csrf_token": token.group(1),
        "pilot": "da_licence",
        "starts_on": "2026-11-24",
        "ends_on": "2027-05-23",
        "exclusion": "on",
        "exclusion_label": "Protected person's home",
        "exclusion_shape": "circle",
        "exclusion_radius": "400",
        "exclusion_buffer": "200",
        "curfew": "on",
        "curfew_lat": "51.5",
        "curfew_lon": "-0.09",
        "curfew_radius": "60",
        "curfew_grace": "5",
        "trail": "on",
    }
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        data[f"curfew_{day}_on"] = "on"
        data[f"curfew_{day}_start"] = "19:00"
        data[f"curfew_{day}_end"] = "07:00"
    return data


def test_an_officer_places_a_zone_by_postcode_and_saves_the_order(
    demo: Container, demo_client: TestClient
) -> None:
    from tests.geo.test_postcodes import ONSPD

    with demo.uow() as uow:
        postcodes.load(uow, ONSPD, actor="test")
        uow.commit()
    brum = person_in(demo, BIRMINGHAM)
    log_in(demo_client, "officer", DEMO_PASSWORD)
    data = _order_form(demo_client, brum.id)
    terminated = demo_client.post(
        f"/persons/{brum.id}/orders/new", data={**data, "exclusion_postcode": "SE1 9ZZ"}
    )
    assert terminated.status_code == 400
    assert 'href="#exclusion_postcode"' in terminated.text
    assert "terminated in December 1998" in terminated.text
    # Copy Saturday's later hours to every day, without JavaScript.
    copied = demo_client.post(
        f"/persons/{brum.id}/orders/new",
        data={**data, "curfew_sat_start": "21:00", "copy_from": "sat"},
    )
    assert copied.status_code == 200
    assert copied.text.count('value="21:00"') == 7
    saved = demo_client.post(
        f"/persons/{brum.id}/orders/new",
        data={**data, "exclusion_postcode": "se1 2dl", "curfew_sun_end": "08:00"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    order_id = int(saved.headers["location"].rsplit("/", 1)[1])
    from vigil.orders import service as orders
    from vigil.security.model import SYSTEM

    with demo.uow() as uow:
        order = orders.get_order(uow, SYSTEM, order_id)
    by_type = {c.type.value: c.params for c in order.conditions}
    assert by_type["exclusion_zone"]["geometry"]["coordinates"] == [-0.071609, 51.498972]
    assert by_type["exclusion_zone"]["buffer_m"] == 200
    assert by_type["curfew"]["timetable"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri", "sat"], "start": "19:00", "end": "07:00"},
        {"days": ["sun"], "start": "19:00", "end": "08:00"},
    ]


def test_a_polygon_zone_and_bad_times_come_back_as_field_errors(
    demo: Container, demo_client: TestClient
) -> None:
    brum = person_in(demo, BIRMINGHAM)
    log_in(demo_client, "officer", DEMO_PASSWORD)
    data = _order_form(demo_client, brum.id)
    data.update(
        exclusion_shape="polygon",
        exclusion_polygon="52.50, -1.90\n52.50, -1.89",
        curfew_wed_start="25:00",
    )
    page = demo_client.post(f"/persons/{brum.id}/orders/new", data=data)
    assert page.status_code == 400
    assert 'href="#exclusion_polygon"' in page.text
    data["exclusion_polygon"] = "52.50, -1.90\n52.50, -1.89\n52.49, -1.89"
    page = demo_client.post(f"/persons/{brum.id}/orders/new", data=data)
    assert page.status_code == 400
    assert 'href="#curfew_wed_start"' in page.text
    data["curfew_wed_start"] = "19:00"
    saved = demo_client.post(f"/persons/{brum.id}/orders/new", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text
