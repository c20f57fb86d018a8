"""What the editor's map writes into the form (a centre and radius, or corners) is checked on the
server like anything typed: a shape that crosses itself, corners that are not numbers or not on
Earth, too many corners, a circle of no size — each comes back as an error on the field, with
nothing stored and no server error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import log_in
from tests.demo_pilot import person_in
from tests.orders.test_editor_pages import BIRMINGHAM, _order_form
from vigil.bootstrap import Container
from vigil.orders import service as orders
from vigil.security.model import SYSTEM
from vigil.sim.demo import DEMO_PASSWORD

SQUARE = "52.500, -1.900\n52.500, -1.890\n52.490, -1.890\n52.490, -1.900"
MANY = "\n".join(f"{52.5 + i * 1e-6:.6f}, {-1.9 + (i % 2) * 1e-3:.6f}" for i in range(5_001))


def _orders_of(container: Container, person_id: int) -> int:
    with container.uow() as uow:
        return len(orders.list_orders(uow, SYSTEM, person_id))


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"exclusion_polygon": "52.5, -1.9\n52.49, -1.89\n52.5, -1.89\n52.49, -1.9"},
         "exclusion_polygon", "not a valid shape"),  # a bow tie: its edges cross
        ({"exclusion_polygon": "52.5, -1.9\nnan, -1.89\n52.49, -1.89"},
         "exclusion_polygon", "finite"),
        ({"exclusion_polygon": "52.5, -1.9\n95, -1.89\n52.49, -1.89"},
         "exclusion_polygon", "outside -90..90"),
        ({"exclusion_polygon": "52.5, -1.9\n52.5; DROP TABLE orders\n52.49, -1.89"},
         "exclusion_polygon", "Corner 2 must be"),
        ({"exclusion_polygon": "52.5, -1.9, 7\n52.5, -1.89\n52.49, -1.89"},
         "exclusion_polygon", "Corner 1"),
        ({"exclusion_polygon": MANY}, "exclusion_polygon", "at most 5000"),
        ({"exclusion_shape": "circle", "exclusion_lat": "52.5", "exclusion_lon": "-1.9",
          "exclusion_radius": "0"}, "exclusion_radius", "between 10 and 20000"),
        ({"exclusion_shape": "circle", "exclusion_lat": "inf", "exclusion_lon": "-1.9"},
         "exclusion_lat", "must be a number"),
        ({"exclusion_buffer": "-5"}, "exclusion_buffer", ""),
    ],
)  # fmt: skip
def test_a_hostile_drawn_zone_is_refused_on_its_field(
    demo: Container,
    demo_client: TestClient,
    fields: dict[str, str],
    field: str,
    reason: str,
) -> None:
    wearer = person_in(demo, BIRMINGHAM)
    before = _orders_of(demo, wearer.id)
    log_in(demo_client, "officer", DEMO_PASSWORD)
    data = {**_order_form(demo_client, wearer.id), "exclusion_shape": "polygon"}
    data.update({"exclusion_polygon": SQUARE, **fields})
    page = demo_client.post(f"/persons/{wearer.id}/orders/new", data=data)
    assert page.status_code == 400
    assert f'href="#{field}"' in page.text
    assert reason in page.text
    assert _orders_of(demo, wearer.id) == before


def test_the_drawn_square_itself_is_stored_as_drawn(
    demo: Container, demo_client: TestClient
) -> None:
    wearer = person_in(demo, BIRMINGHAM)
    log_in(demo_client, "officer", DEMO_PASSWORD)
    data = {**_order_form(demo_client, wearer.id), "exclusion_shape": "polygon"}
    data["exclusion_polygon"] = SQUARE
    saved = demo_client.post(f"/persons/{wearer.id}/orders/new", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    with demo.uow() as uow:
        order = orders.get_order(uow, SYSTEM, int(saved.headers["location"].rsplit("/", 1)[1]))
    [zone] = [c.params for c in order.conditions if c.type.value == "exclusion_zone"]
    assert zone["geometry"]["coordinates"] == [
        [[-1.9, 52.5], [-1.89, 52.5], [-1.89, 52.49], [-1.9, 52.49], [-1.9, 52.5]]
    ]
