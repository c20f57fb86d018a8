"""The public form's confirmation: what happens next, how long it takes (only what the service has
agreed to), and where to get help now, from the one list of helplines the footer shows too."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import csrf_from, log_in, make_settings
from tests.contact.helpers import walk_to_check
from vigil.bootstrap import build_container
from vigil.clock import FrozenClock
from vigil.contact.helplines import HELPLINES
from vigil.security import service as security_service
from vigil.security.model import Role
from vigil.web.app import create_app

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "vigil" / "contact" / "templates"


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The form's pages only render and validate; storage runs on both backends in test_api."""
    path = tmp_path / "vigil.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _send(client: TestClient) -> str:
    walk_to_check(client)
    check = client.get("/contact/check")
    sent = client.post("/contact/check", data={"csrf_token": csrf_from(check.text)})
    assert sent.status_code == 200, sent.text
    assert 'id="reference">UPC-' in sent.text
    return sent.text


def _section(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">(.*?)</(?:ol|ul|p)>', page, re.S)
    assert found, testid
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def test_the_confirmation_says_what_happens_next(client: TestClient) -> None:
    steps = _section(_send(client), "what-happens-next")
    for step in (
        "A case handler reads your request",
        "they will ask you",
        "They decide whether to stop the prisoner",
        "We tell you the decision by email, or by text message",
        "never says where the prisoner is held",
    ):
        assert step in steps


def test_with_no_agreed_decision_time_none_is_promised(client: TestClient) -> None:
    page = _send(client)
    assert _section(page, "how-long") == (
        "There is no fixed time for a decision. Requests are dealt with in the order they arrive."
    )
    assert "Nothing is stopped until the decision is made" in page


def test_the_confirmation_gives_999_and_every_national_helpline(client: TestClient) -> None:
    page = _send(client)
    assert "If you are in danger now, call 999" in page
    assert "press 55" in page
    listed = _section(page, "helplines")
    for line in HELPLINES:
        assert f"{line.name}: {line.number}" in listed
        assert f'href="tel:{line.dial}"' in page
    footer = page[page.index('data-testid="public-footer"') :]
    for line in HELPLINES:
        assert line.number in footer


def test_helpline_numbers_are_written_in_one_place_only() -> None:
    """The footer and the confirmation both read vigil.contact.helplines; no page copies them."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for line in HELPLINES:
            assert line.number not in text, f"{template.name} copies {line.name}'s number"


@pytest.fixture
def promising_client(db_url: str, clock: FrozenClock) -> Iterator[tuple[TestClient, FrozenClock]]:
    """A service that has agreed to decide requests within 10 days."""
    settings = make_settings(db_url).model_copy(update={"contact_decision_days": 10})
    container = build_container(settings, clock=clock)
    with container.uow() as uow:
        security_service.add_user(
            uow, username="ch", password="correct horse battery", role=Role.UPCS_CASE_HANDLER
        )
        uow.commit()
    with TestClient(create_app(container)) as client:
        yield client, clock
    container.engine.dispose()


def test_an_agreed_decision_time_is_promised_and_the_queue_marks_cases_past_it(
    promising_client: tuple[TestClient, FrozenClock],
) -> None:
    client, clock = promising_client
    sent_at = clock.now()
    page = _send(client)
    reference = re.search(r'id="reference">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    assert _section(page, "how-long") == (
        "We aim to decide within 10 days of receiving your request."
    )
    for days_open, overdue in ((10, False), (10.05, True)):
        clock.set(sent_at + timedelta(days=days_open))
        queue = _queue(client)
        assert reference in queue  # the case is listed, signed in afresh (sessions end)
        assert ('data-testid="overdue"' in queue) is overdue, days_open


def _queue(client: TestClient) -> str:
    client.cookies.clear()
    log_in(client, "ch", "correct horse battery")
    return client.get("/contact/cases").text
