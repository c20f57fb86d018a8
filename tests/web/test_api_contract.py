"""The published OpenAPI is the truth: schemathesis generates requests from it for every
operation, as every role and as nobody, and every answer must be a documented status with a body
of the documented shape, and never a server error.

A short run belongs to the suite; ``make fuzz`` runs the same test with many more examples per
operation (``VIGIL_FUZZ_EXAMPLES``) and the figures go in docs/security.md.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import log_in
from tests.people.registry import PASSWORD, build_registry
from vigil.bootstrap import Container
from vigil.security import machine_tokens
from vigil.security import service as security
from vigil.security.model import Role
from vigil.web.app import create_app

EXAMPLES = int(os.environ.get("VIGIL_FUZZ_EXAMPLES", "3"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# An event stream never ends by itself; its contract is its content type (tests/alerts).
ENDLESS = frozenset({"GET /api/alerts/stream"})
SESSIONS = ("admin", "operator", "officer", "police.wmp", "analyst", "casehandler", "auditor")
TOKENS = (Role.DEVICE_GATEWAY, Role.PRISON_SYSTEM)


def _callers(container: Container, client: TestClient) -> dict[str, dict[str, Any]]:
    """How each caller authenticates: nobody, a session per staff role, a token per machine."""
    build_registry(container)
    with container.uow() as uow:
        security.add_user(
            uow, username="casehandler", password=PASSWORD, role=Role.UPCS_CASE_HANDLER
        )
        security.add_user(uow, username="auditor", password=PASSWORD, role=Role.AUDITOR)
        tokens = {
            role: machine_tokens.create_token(uow, role=role, name=role.value) for role in TOKENS
        }
        uow.commit()
    callers: dict[str, dict[str, Any]] = {"nobody": {"headers": {}, "cookies": {}}}
    for user in SESSIONS:
        client.cookies.clear()
        csrf = log_in(client, user, PASSWORD)
        callers[user] = {"headers": {"x-csrf-token": csrf}, "cookies": dict(client.cookies)}
    for role, token in tokens.items():
        callers[role.value] = {"headers": {"authorization": f"Bearer {token}"}, "cookies": {}}
    client.cookies.clear()
    return callers


def _exercise(
    operation: Any, name: str, auth: dict[str, Any], calls: Counter[str], failures: Counter[str]
) -> None:
    """Send ``EXAMPLES`` generated requests to one operation as one caller; count failures."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def call(case: schemathesis.Case) -> None:
        response = case.call(headers=auth["headers"], cookies=auth["cookies"])
        calls[name] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # schemathesis raises a group of failures
            for failure in getattr(exc, "exceptions", [exc]):
                title = str(failure).strip().splitlines()[0]
                failures[f"{operation.label} as {name}: {title}"] += 1

    call()


def test_every_answer_matches_the_published_contract(sqlite_container: Container) -> None:
    app = create_app(sqlite_container)
    client = TestClient(app, raise_server_exceptions=False)
    callers = _callers(sqlite_container, client)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 80, "every API route should be in the contract"
    for operation in operations:
        if operation.label not in ENDLESS:
            for name, auth in callers.items():
                _exercise(operation, name, auth, calls, failures)
    assert sum(calls.values()) > len(operations) * len(callers)
    assert not failures, "\n".join(f"{n} x {what}" for what, n in failures.most_common())
