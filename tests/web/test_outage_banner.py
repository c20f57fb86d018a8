"""Staff pages say when this process cannot do all its work, so a quiet queue is not mistaken
for a quiet night; the public form says nothing of it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import log_in
from vigil.bootstrap import Container
from vigil.bus.nats import NatsBus
from vigil.security import service
from vigil.security.model import Role


def _signed_in_operator(client: TestClient, container: Container) -> None:
    with container.uow() as uow:
        service.add_user(
            uow, username="op1", password="correct horse battery", role=Role.MONITORING_OPERATOR
        )
        uow.commit()
    log_in(client, "op1", "correct horse battery")


def test_a_page_warns_while_a_service_is_restarting(
    client: TestClient, container: Container
) -> None:
    _signed_in_operator(client, container)
    assert 'id="outage"' not in client.get("/").text
    state = container.service_states.of("alerts.deliver")
    state.crashes, state.running = 1, False
    page = client.get("/").text
    assert "Vigil is not fully working" in page
    assert "Alert messages and calls are not being sent (alerts.deliver is restarting" in page
    state.running = True
    assert 'id="outage"' not in client.get("/").text


def test_a_page_warns_while_the_bus_is_down(client: TestClient, container: Container) -> None:
    _signed_in_operator(client, container)
    # A NATS bus whose server never answered: nothing listens on port 1.
    container.bus = NatsBus("nats://127.0.0.1:1", partitions=1)
    assert "The message bus is not connected" in client.get("/").text


def test_the_public_form_shows_no_outage(client: TestClient, container: Container) -> None:
    container.service_states.of("alerts.deliver").crashes = 1
    assert 'id="outage"' not in client.get("/contact").text
