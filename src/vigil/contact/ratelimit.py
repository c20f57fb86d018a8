"""Per-client rate limit for the public form and its JSON twin (sliding window, in memory)."""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(client, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 100_000:
                # Forget idle clients so the table cannot be grown without bound.
                for key in [k for k, v in self._hits.items() if not v]:
                    del self._hits[key]
            return True


# Posts (each form page, each JSON submission) per client per window.
PUBLIC_LIMIT = 60
PUBLIC_WINDOW_SECONDS = 600.0
_KEY = "contact.rate_limiter"


def public_limiter(extras: dict[str, object]) -> RateLimiter:
    found = extras.get(_KEY)
    if not isinstance(found, RateLimiter):
        found = RateLimiter(PUBLIC_LIMIT, PUBLIC_WINDOW_SECONDS)
        extras[_KEY] = found
    return found
