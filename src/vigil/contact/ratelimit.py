"""Per-client rate limit for the public form and its JSON twin, shared by every web process
(counted in the database: see vigil.security.throttle)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from vigil.db.uow import UnitOfWork
from vigil.security.throttle import SharedRateLimiter

# Posts (each form page, each JSON submission) per client per window.
PUBLIC_LIMIT = 60
PUBLIC_WINDOW = timedelta(minutes=10)


def public_limiter(uow: Callable[[], UnitOfWork]) -> SharedRateLimiter:
    return SharedRateLimiter(uow, "contact.public", PUBLIC_LIMIT, PUBLIC_WINDOW)
