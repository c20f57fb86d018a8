"""UPCS JSON API: the public request twin, case handling, and enforcement for prison systems."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response

from vigil.contact import service
from vigil.contact.index import shared_index
from vigil.contact.model import MAX_BODY_BYTES, CaseStatus, parse_request
from vigil.contact.ratelimit import public_limiter
from vigil.errors import ValidationError
from vigil.web.auth import ApiPrincipal, ContainerDep, api_principal, container
from vigil.web.params import RowId

router = APIRouter(prefix="/api/contact", tags=["contact"])

# Enforcement and case bodies are small; anything bigger is not what a client meant to send.
MAX_SMALL_BODY = 16 * 1024


async def read_json(request: Request, limit: int) -> Any:
    """The body as JSON within ``limit`` bytes: 413 when larger, 422 when not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body: larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"body: larger than {limit} bytes"
            )
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ValidationError("body", "must be a JSON object") from exc


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# --- public ---------------------------------------------------------------------------------


@router.post("/requests", status_code=201)
async def submit_request(request: Request, c: ContainerDep) -> Response:
    """A partner agency's system submits a request; same validation and limits as the form."""
    if not public_limiter(c.extras).allow(client_key(request)):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "rate: too many requests; wait")
    data = await read_json(request, MAX_BODY_BYTES)
    parsed = parse_request(data, today=c.clock.now().date())
    with c.uow() as uow:
        reference = service.submit_request(uow, c.cipher, parsed, channel="api")
    return JSONResponse({"reference": reference}, status_code=201)


@router.post("/intelligence", status_code=201)
async def report_intelligence(request: Request, c: ContainerDep) -> Response:
    """Staff (with a session or token) or the public report illicit phone use or other contact."""
    principal = None
    if request.headers.get("authorization"):
        principal = await api_principal(request)
    elif not public_limiter(c.extras).allow(client_key(request)):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "rate: too many requests; wait")
    data = await read_json(request, MAX_SMALL_BODY)
    with c.uow() as uow:
        found = service.submit_intelligence(uow, c.cipher, data, principal=principal)
    return JSONResponse({"id": found, "queue": service.SECURITY_QUEUE}, status_code=201)


# --- enforcement (prison_system) -----------------------------------------------------------


async def call_check(request: Request) -> Response:
    """Dial-time check. A plain Starlette route (no dependency injection, no response model):
    prison phone systems call it for every dialled number, so per-request overhead matters."""
    c = container(request)
    principal = await api_principal(request)
    data = await read_json(request, MAX_SMALL_BODY)
    if not isinstance(data, dict):
        raise ValidationError("body", "must be a JSON object")
    result = service.call_check(
        c.uow,
        shared_index(c),
        principal,
        data.get("prison_number"),
        data.get("number"),
        cipher=c.cipher,
    )
    return Response(call_check_body(result), media_type="application/json")


router.add_route(
    f"{router.prefix}/call-check", call_check, methods=["POST"], include_in_schema=False
)


def call_check_body(result: service.CallResult) -> bytes:
    """``{"allowed", "reason", "number"}`` without a general-purpose encoder (E.164 is safe)."""
    if result.allowed:
        return b'{"allowed":true,"reason":null,"number":"' + result.e164.encode() + b'"}'
    return json.dumps(
        {"allowed": False, "reason": result.reason, "number": result.e164}, separators=(",", ":")
    ).encode()


@router.post("/mail-check")
async def mail_check(request: Request, c: ContainerDep, principal: ApiPrincipal) -> dict[str, Any]:
    data = await read_json(request, MAX_SMALL_BODY)
    if not isinstance(data, dict):
        raise ValidationError("body", "must be a JSON object")
    result = service.mail_check(
        c.uow,
        shared_index(c),
        principal,
        data.get("prison_number"),
        data.get("address"),
        cipher=c.cipher,
    )
    return {"allowed": result.allowed, "match": result.match, "score": result.score}


@router.get("/barred-numbers")
def barred_numbers(
    c: ContainerDep, principal: ApiPrincipal, since: str | None = None, limit: int = 1000
) -> dict[str, Any]:
    with c.uow() as uow:
        return service.barred_numbers_since(uow, c.cipher, principal, since, limit)


# --- case handling (upcs_case_handler) -----------------------------------------------------


def _summary_json(s: service.CaseSummary) -> dict[str, Any]:
    return {
        "id": s.id,
        "reference": s.reference,
        "status": s.status.value,
        "requester_type": s.requester_type.value,
        "protected_people": list(s.masked_people),
        "prison_number": s.prison_number,
        "assigned_to": s.assigned_to,
        "submitted_at": s.submitted_at.isoformat(),
        "barred_at": s.barred_at.isoformat() if s.barred_at else None,
        "sla_hours": s.sla_hours,
        "open_alerts": s.open_alerts,
    }


def _detail_json(d: service.CaseDetail) -> dict[str, Any]:
    return {
        **_summary_json(d.summary),
        "request": d.request,
        "matched_prison_number": d.matched_prison_number,
        "decision_reason": d.decision_reason,
        "bars": [
            {
                "id": b.id,
                "scope": b.scope.value,
                "prison_number": b.prison_number,
                "reason": b.reason,
                "review_date": b.review_date,
                "lifted_at": b.lifted_at,
                "lift_reason": b.lift_reason,
                "items": [{"kind": k.value, "value": v} for k, v in b.items],
            }
            for b in d.bars
        ],
        "attempts": [{"at": at, "kind": k, "prison_number": p} for at, k, p in d.attempts],
        "alerts": list(d.alerts),
        "notes": [{"at": at, "by": by, "kind": k, "text": t} for at, by, k, t in d.notes],
    }


@router.get("/cases")
def list_cases(
    c: ContainerDep,
    principal: ApiPrincipal,
    reference: str | None = None,
    case_status: CaseStatus | None = None,
) -> dict[str, Any]:
    with c.uow() as uow:
        if reference is not None:
            case_id = service.find_case(uow, principal, reference[:20])
            return {
                "cases": [
                    _jsonable(_detail_json(service.get_case(uow, c.cipher, principal, case_id)))
                ]
            }
        cases = service.list_cases(uow, c.cipher, principal, status=case_status)
    return {"cases": [_summary_json(s) for s in cases]}


@router.get("/cases/{case_id}")
def get_case(case_id: RowId, c: ContainerDep, principal: ApiPrincipal) -> dict[str, Any]:
    with c.uow() as uow:
        detail = service.get_case(uow, c.cipher, principal, case_id)
    result: dict[str, Any] = _jsonable(_detail_json(detail))
    return result


@router.get("/cases/{case_id}/candidates")
def candidates(case_id: RowId, c: ContainerDep, principal: ApiPrincipal) -> dict[str, Any]:
    with c.uow() as uow:
        found = service.candidates(uow, c.cipher, principal, case_id)
    return {
        "candidates": [
            {
                "prisoner_id": cand.prisoner.id,
                "prison_number": cand.prisoner.prison_number,
                "name": cand.prisoner.full_name,
                "date_of_birth": _jsonable(cand.prisoner.date_of_birth),
                "establishment": cand.prisoner.establishment,
                "score": cand.score,
                "reasons": list(cand.reasons),
            }
            for cand in found
        ]
    }


async def _small_object(request: Request) -> dict[str, Any]:
    data = await read_json(request, MAX_SMALL_BODY)
    if not isinstance(data, dict):
        raise ValidationError("body", "must be a JSON object")
    return data


@router.post("/cases/{case_id}/match")
async def match(
    case_id: RowId, request: Request, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, str]:
    data = await _small_object(request)
    prisoner_id = data.get("prisoner_id")
    if not isinstance(prisoner_id, int):
        raise ValidationError("prisoner_id", "must be the id of a register entry")
    with c.uow() as uow:
        service.match_prisoner(uow, c.cipher, principal, case_id, prisoner_id)
    return {"status": "matched"}


@router.post("/cases/{case_id}/bars", status_code=201)
async def create_bar(
    case_id: RowId, request: Request, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, Any]:
    data = await _small_object(request)
    principal.require(*service.CASE_ROLES)
    parsed = service.parse_bar(data, today=c.clock.now().date())
    with c.uow() as uow:
        bar_id = service.bar(uow, c.cipher, principal, case_id, parsed, index=shared_index(c))
    return {"bar_id": bar_id}


@router.post("/bars/{bar_id}/lift")
async def lift_bar(
    bar_id: RowId, request: Request, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, str]:
    data = await _small_object(request)
    reason = data.get("reason")
    with c.uow() as uow:
        service.lift_bar(
            uow,
            c.cipher,
            principal,
            bar_id,
            reason if isinstance(reason, str) else None,
            index=shared_index(c),
        )
    return {"status": "lifted"}


@router.post("/cases/{case_id}/decline")
async def decline(
    case_id: RowId, request: Request, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, str]:
    reason = (await _small_object(request)).get("reason")
    with c.uow() as uow:
        service.decline(
            uow, c.cipher, principal, case_id, reason if isinstance(reason, str) else None
        )
    return {"status": CaseStatus.DECLINED.value}


@router.post("/cases/{case_id}/information")
async def ask_for_information(
    case_id: RowId, request: Request, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, str]:
    question = (await _small_object(request)).get("question")
    with c.uow() as uow:
        service.ask_for_information(
            uow, c.cipher, principal, case_id, question if isinstance(question, str) else None
        )
    return {"status": CaseStatus.AWAITING_INFORMATION.value}


@router.post("/cases/{case_id}/notes", status_code=201)
async def add_note(
    case_id: RowId, request: Request, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, str]:
    text = (await _small_object(request)).get("text")
    with c.uow() as uow:
        service.add_note(uow, c.cipher, principal, case_id, text if isinstance(text, str) else None)
    return {"status": "added"}


@router.get("/alerts")
def alerts(c: ContainerDep, principal: ApiPrincipal) -> dict[str, Any]:
    with c.uow() as uow:
        return {"alerts": _jsonable(service.open_alerts(uow, principal))}


@router.get("/statistics")
def statistics(c: ContainerDep, principal: ApiPrincipal) -> dict[str, Any]:
    with c.uow() as uow:
        stats = service.statistics(uow, principal)
    return {
        "requests": stats.requests,
        "requests_by_type": stats.requests_by_type,
        "unique_requesters": stats.unique_requesters,
        "median_hours_to_bar": stats.median_hours_to_bar,
        "p90_hours_to_bar": stats.p90_hours_to_bar,
        "active_bars": stats.active_bars,
        "refused_calls": stats.refused_calls,
        "held_letters": stats.held_letters,
        "by_status": stats.by_status,
    }
