"""Per-client rate limit for the public form and its JSON twin, shared by every web process
(counted in the database: see vigil.security.throttle)."""

from __future__ import annotations

from datetime import timedelta

from vigil.bootstrap import Container
from vigil.security.throttle import SharedRateLimiter

# Posts (each form page, each JSON submission) per client per window.
PUBLIC_LIMIT = 60
PUBLIC_WINDOW = timedelta(minutes=10)
_KEY = "contact.rate_limiter"


def public_limiter(c: Container) -> SharedRateLimiter:
    found = c.extras.get(_KEY)
    if not isinstance(found, SharedRateLimiter):
        found = SharedRateLimiter(c.uow, "contact.public", PUBLIC_LIMIT, PUBLIC_WINDOW)
        c.extras[_KEY] = found
    return found
