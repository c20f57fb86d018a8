"""Who a bearer token stands for: the lookup every machine door shares (the web app, the
prison-system check port), read from the database and cached for a few seconds per process."""

from __future__ import annotations

from collections.abc import Callable

from vigil.db.uow import UnitOfWork
from vigil.security import machine_tokens
from vigil.security.model import Principal


class BearerTokens:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        cache: machine_tokens.TokenPrincipalCache | None = None,
    ) -> None:
        self._uow = uow
        self.cache = cache or machine_tokens.TokenPrincipalCache()

    def principal(self, token: str) -> Principal | None:
        """The principal a bearer token stands for, or None when unknown or revoked."""

        def lookup() -> Principal | None:
            with self._uow() as uow:
                return machine_tokens.token_principal(uow, token)

        return self.cache.principal(token, lookup)
