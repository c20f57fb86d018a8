"""The order form: an error summary naming each field, then a saved order and a variation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.people.registry import as_user, build_registry, person_body
from vigil.bootstrap import Container

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WINDOW = {"on": "on", "start": "19:00", "end": "07:00"}
GOOD_FORM = {
    "pilot": "da_licence",
    "starts_on": "2026-11-20",
    "ends_on": "2027-05-19",
    "curfew": "on",
    "curfew_lat": "52.4862",
    "curfew_lon": "-1.8904",
    "curfew_radius": "60",
    "curfew_grace": "5",
    "exclusion": "on",
    "exclusion_lat": "52.5050",
    "exclusion_lon": "-1.9100",
    "exclusion_radius": "500",
    "exclusion_buffer": "250",
    "trail": "on",
    # The editor's curfew timetable: a row per day.
    **{f"curfew_{day}_{part}": value for day in DAYS for part, value in WINDOW.items()},
}


def test_order_form_shows_errors_then_saves_and_varies(
    client: TestClient, container: Container
) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    csrf = headers["x-csrf-token"]
    person_id = client.post(
        "/api/persons", json=person_body(registry.birmingham), headers=headers
    ).json()["id"]
    person_page = client.get(f"/persons/{person_id}")
    assert person_page.status_code == 200
    assert "Add an order" in person_page.text
    form_page = client.get(f"/persons/{person_id}/orders/new")
    assert form_page.status_code == 200

    bad = dict(GOOD_FORM, ends_on="2026-11-01", curfew_mon_end="7pm", exclusion_radius="2")
    refused = client.post(f"/persons/{person_id}/orders/new", data={**bad, "csrf_token": csrf})
    assert refused.status_code == 400
    assert "There is a problem" in refused.text
    for anchor in ("#ends_on", "#curfew_mon_end", "#exclusion_radius"):
        assert f'href="{anchor}"' in refused.text, anchor
    assert client.get("/api/orders").json() == []

    saved = client.post(
        f"/persons/{person_id}/orders/new",
        data={**GOOD_FORM, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    order_url = saved.headers["location"]
    (order,) = client.get("/api/orders").json()
    assert order["starts_at"] == "2026-11-20T00:00:00+00:00"  # local midnight (GMT in November)
    assert [c["type"] for c in order["conditions"]] == ["curfew", "exclusion_zone", "trail"]
    assert "Vary this order" in client.get(order_url).text

    vary_form = client.get(f"{order_url}/vary")
    assert 'value="52.505"' in vary_form.text
    varied = client.post(
        f"{order_url}/vary",
        data={
            **GOOD_FORM,
            "exclusion_radius": "800",
            "effective_on": "2026-11-23",
            "reason": "Victim asked for a wider zone",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert varied.status_code == 303, varied.text
    after = client.get(f"/api/orders/{order['id']}").json()
    assert after["version"] == 2
    by_type = {c["type"]: c for c in after["conditions"]}
    assert by_type["curfew"]["id"] == order["conditions"][0]["id"]  # unchanged, same identity
    assert by_type["exclusion_zone"]["radius_m"] == 800
    assert "Victim asked for a wider zone" in client.get(order_url).text


def test_form_post_without_csrf_token_is_refused(client: TestClient, container: Container) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    person_id = client.post(
        "/api/persons", json=person_body(registry.birmingham), headers=headers
    ).json()["id"]
    refused = client.post(f"/persons/{person_id}/orders/new", data=GOOD_FORM)
    assert refused.status_code == 403
    assert client.get("/api/orders").json() == []


def test_registry_pages_render_for_their_roles(client: TestClient, container: Container) -> None:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    person_id = client.post(
        "/api/persons", json=person_body(registry.birmingham), headers=headers
    ).json()["id"]
    victim = client.post(
        f"/api/persons/{person_id}/protected-persons",
        json={"full_name": "Sarah Price", "relationship": "partner", "address": "1 Marsh Lane"},
        headers=headers,
    ).json()
    caseload = client.get("/caseload")
    assert "Walsh, Lee" in caseload.text
    person_page = client.get(f"/persons/{person_id}").text
    # Named, as a link whose opening is audited; her address only on her own page.
    assert f'href="/protected-persons/{victim["id"]}">Sarah Price</a>' in person_page
    assert "1 Marsh Lane" not in person_page
    assert "Sarah Price" in client.get(f"/protected-persons/{victim['id']}").text
    assert client.get("/devices").status_code == 200
    as_user(client, "notts")
    assert client.get(f"/persons/{person_id}", headers={"accept": "text/html"}).status_code == 404
    assert "Walsh" not in client.get("/caseload").text
