"""Every route, every role, every number in a path or query string pushed past what any store can
hold: the answer is a 4xx naming the field, never a server error. Generated from the router, so a
new route is covered the day it is added."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi._compat import ModelField
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient

from tests.conftest import log_in
from tests.people.registry import PASSWORD, build_registry
from vigil.bootstrap import Container
from vigil.security import service as security
from vigil.security.model import Role
from vigil.web.app import create_app

# Past what any store's key or Python's timedelta can hold, and the floats that are not numbers.
HOSTILE_INTS = ("18446744073709551616", "-18446744073709551616")
HOSTILE_FLOATS = ("1e16", "-1e16", "1e308", "nan", "inf")
USERS = ("officer", "police.wmp", "admin", "operator", "analyst", "casehandler", "auditor")


@dataclass(frozen=True)
class Probe:
    method: str
    url: str
    field: str


def _kind(param: ModelField) -> str:
    annotation = repr(param.field_info.annotation)
    for kind in ("datetime", "date", "float", "int", "bool"):
        if kind in annotation:
            return kind
    return "str"


# A plausible value for every other parameter, so the hostile one reaches the code that uses it.
PLAUSIBLE = {
    "datetime": "2026-11-23T09:00:00Z",
    "date": "2026-11-23",
    "float": "1",
    "int": "1",
    "bool": "true",
    "str": "1",
}


def _number_probes(context: RouteContext) -> Iterator[tuple[str, str]]:
    """(url, field) for each hostile value of each number the route reads from path or query."""
    assert isinstance(context.route, APIRoute)
    dependant = context.route.dependant
    path_params = {p.name: p for p in dependant.path_params}
    query = {
        p.name: PLAUSIBLE[_kind(p)] for p in dependant.query_params if p.field_info.is_required()
    }
    numbers = [
        (where, p)
        for where, params in (("path", dependant.path_params), ("query", dependant.query_params))
        for p in params
        if _kind(p) in {"int", "float"}
    ]
    for where, param in numbers:
        for value in HOSTILE_INTS if _kind(param) == "int" else HOSTILE_FLOATS:
            values = {name: PLAUSIBLE[_kind(p)] for name, p in path_params.items()}
            params = dict(query)
            if where == "path":
                values[param.name] = value
            else:
                params[param.name] = value
            path = context.path_format
            for name, text in values.items():
                path = re.sub(r"\{" + name + r"(:\w+)?\}", text, path)
            yield f"{path}?{urlencode(params)}" if params else path, param.name


def all_routes(client: TestClient) -> list[RouteContext]:
    """Every route of the app, with its full path, whichever router it was included from."""
    return [
        context
        for context in iter_route_contexts(client.app.routes)  # type: ignore[attr-defined]
        if isinstance(context.route, APIRoute)
    ]


def _probes(client: TestClient) -> list[Probe]:
    return [
        Probe(method, url, field)
        for context in all_routes(client)
        for url, field in _number_probes(context)
        for method in sorted(set(context.methods or ()) - {"HEAD"})
    ]


def test_no_number_in_a_path_or_query_string_makes_a_server_error(container: Container) -> None:
    # A server error must come back as a response, as a user would see it, not as an exception.
    client = TestClient(create_app(container), raise_server_exceptions=False)
    build_registry(container)
    with container.uow() as uow:
        security.add_user(
            uow, username="casehandler", password=PASSWORD, role=Role.UPCS_CASE_HANDLER
        )
        security.add_user(uow, username="auditor", password=PASSWORD, role=Role.AUDITOR)
        uow.commit()
    probes = _probes(client)
    assert len(probes) > 20, "the router should have many routes with numbers in them"
    failures = []
    for user in (None, *USERS):
        client.cookies.clear()
        headers = {}
        if user is not None:
            headers = {"x-csrf-token": log_in(client, user, PASSWORD)}
        for probe in probes:
            response = client.request(
                probe.method, probe.url, headers=headers, follow_redirects=False
            )
            if response.status_code >= 500:
                failures.append(f"{user}: {probe.method} {probe.url} -> {response.status_code}")
    assert failures == [], "\n".join(failures)


DEEP_JSON = b"[" * 20_000 + b"]" * 20_000
BAD_UTF8_FORM = b"id=\xff\xfe&lat=\xed\xa0\x80&lon=1"
HOSTILE_BODIES = (
    ("application/json", DEEP_JSON),
    ("application/json", b'{"name": "\\ud800", "device": "\\udfff"}'),
    ("application/x-www-form-urlencoded", BAD_UTF8_FORM),
    ("text/plain", b"\xff\xfe\x00"),
)


def test_no_hostile_body_makes_a_server_error(container: Container) -> None:
    """Nesting 20,000 deep, lone surrogates and bytes that are not UTF-8, to every route that
    takes a body, as each role (CSRF passed, so the body is what is tested)."""
    client = TestClient(create_app(container), raise_server_exceptions=False)
    build_registry(container)
    with container.uow() as uow:
        security.add_user(
            uow, username="casehandler", password=PASSWORD, role=Role.UPCS_CASE_HANDLER
        )
        uow.commit()
    targets = [
        (method, re.sub(r"\{(\w+)(:\w+)?\}", "1", context.path_format))
        for context in all_routes(client)
        for method in sorted(set(context.methods or ()) & {"POST", "PUT", "PATCH"})
    ]
    assert len(targets) > 20
    failures = []
    for user in (None, "officer", "admin", "operator", "casehandler"):
        client.cookies.clear()
        csrf = {} if user is None else {"x-csrf-token": log_in(client, user, PASSWORD)}
        for method, url in targets:
            for content_type, body in HOSTILE_BODIES:
                headers = {**csrf, "content-type": content_type}
                response = client.request(
                    method, url, content=body, headers=headers, follow_redirects=False
                )
                if response.status_code >= 500:
                    failures.append(f"{user}: {method} {url} {content_type} -> 500")
    assert failures == [], "\n".join(failures)
