"""A member of staff calling the API the way their browser does: a session cookie and its CSRF
token. Bearer tokens are for machines only (vigil.security.machine_tokens), so tests that act as
a person sign one in.

A credential is a string either way, so helpers can pass it around as they pass a token:
``session:<cookie>:<csrf>`` for a person, the token itself for a machine.
"""

from __future__ import annotations

import itertools

from vigil.bootstrap import Container
from vigil.security import service, sign_in
from vigil.security.model import Role
from vigil.web.auth import SESSION_COOKIE

PASSWORD = "a-long-enough-password-for-tests"
_SESSION = "session:"
_numbers = itertools.count(1)


def staff_credential(container: Container, role: Role) -> str:
    """Sign in a new user with ``role`` (a role with no caseload scope to name) and return the
    session as a credential."""
    username = f"{role.value}-{next(_numbers)}"
    with container.uow() as uow:
        service.add_user(uow, username=username, password=PASSWORD, role=role)
        uow.commit()
    with container.uow() as uow:
        session = sign_in.log_in(uow, username, PASSWORD, "tests")
        uow.commit()
    assert session is not None
    return f"{_SESSION}{session.token}:{session.csrf_token}"


def auth_headers(credential: str) -> dict[str, str]:
    """The headers that present ``credential``: a session cookie and CSRF token, or a bearer
    token."""
    if credential.startswith(_SESSION):
        cookie, _, csrf = credential.removeprefix(_SESSION).partition(":")
        return {"cookie": f"{SESSION_COOKIE}={cookie}", "x-csrf-token": csrf}
    return {"authorization": f"Bearer {credential}"}


def staff_headers(container: Container, role: Role) -> dict[str, str]:
    return auth_headers(staff_credential(container, role))
