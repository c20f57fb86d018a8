"""The published contract: ``/openapi.json`` describes the answers Vigil really sends.

FastAPI documents its own 422 shape (``loc``/``msg``/``type``) and only the statuses a route
declares; Vigil answers every refusal as ``{"detail": [{"field", "reason"}]}`` (one entry per
field, see ``web.app``) and any route may answer 401, 403 or 404 (sign-in, role, caseload scope:
out of scope looks like absent). So the generated document is corrected once here, for every
route, instead of each route repeating the same responses.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

FIELD_PROBLEM = {
    "title": "FieldProblem",
    "type": "object",
    "required": ["field", "reason"],
    "properties": {
        "field": {"type": "string", "description": "The field, dotted for nested ones."},
        "reason": {"type": "string"},
    },
}
VALIDATION_PROBLEM = {
    "title": "ValidationProblem",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}
    },
}
PROBLEM = {
    "title": "Problem",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
}

# Status → description, for answers any API route can give.
COMMON = {
    "401": "Not signed in, or the token is unknown or expired.",
    "403": "The caller's role may not do this (or the CSRF token is missing).",
    "404": "Not found, or outside the caller's caseload or force.",
}
WITH_BODY = {"413": "The body is larger than this route takes."}
PUBLIC_FORMS = {"429": "Too many requests from this client; wait."}
RATE_LIMITED = ("/api/contact/requests", "/api/contact/intelligence")


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _complete(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses["422"] = {
        "description": "A field is missing or not acceptable; each problem names its field.",
        "content": _json("HTTPValidationError"),
    }
    extra = dict(COMMON)
    if "requestBody" in operation:
        extra |= WITH_BODY
    if path in RATE_LIMITED:
        extra |= PUBLIC_FORMS
    for status, description in extra.items():
        responses.setdefault(status, {"description": description, "content": _json("Problem")})


def install(app: FastAPI, extra_paths: dict[str, dict[str, Any]]) -> None:
    """Serve the corrected document; ``extra_paths`` describes routes added outside FastAPI's
    routing (the dial-time check), so they are published too."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("paths", {}).update(extra_paths)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["ValidationError"] = FIELD_PROBLEM
            components["HTTPValidationError"] = VALIDATION_PROBLEM
            components["Problem"] = PROBLEM
            for path, item in schema["paths"].items():
                if path.startswith("/api/"):
                    for operation in item.values():
                        _complete(path, operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
