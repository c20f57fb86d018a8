"""An operator's live alert stream on a web process, read in a thread as a browser would hold it
open: signed in through the login form, ``GET /api/alerts/stream``, each event's data kept."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field

import httpx

from tests.people.registry import PASSWORD


def signed_in(base_url: str, username: str = "operator") -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=10)
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the login page has no CSRF token"
    answer = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": found.group(1),
            "next": "/",
        },
    )
    assert answer.status_code in (200, 303), answer.text
    return client


@dataclass
class LiveStream:
    base_url: str
    events: list[dict[str, object]] = field(default_factory=list)
    _client: httpx.Client | None = None

    def open(self) -> None:
        self._client = signed_in(self.base_url)
        opened = threading.Event()
        threading.Thread(target=self._read, args=(opened,), daemon=True).start()
        assert opened.wait(10), "the live stream did not open"

    def _read(self, opened: threading.Event) -> None:
        assert self._client is not None
        timeout = httpx.Timeout(10, read=None)
        try:
            with self._client.stream("GET", "/api/alerts/stream", timeout=timeout) as response:
                assert response.status_code == 200
                opened.set()
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        self.events.append(json.loads(line[6:]))
        except httpx.HTTPError:
            return  # the process stopped (the end of the test): the stream is over

    def raised(self, kind: str = "exclusion_zone") -> set[str]:
        """Persons with an alert of ``kind`` raised, as the stream told it."""
        return {
            str(event["person_id"])
            for event in list(self.events)
            if event.get("kind") == kind and event.get("action") == "raised"
        }
