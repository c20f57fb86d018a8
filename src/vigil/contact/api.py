"""UPCS JSON API: the public request twin, case handling, and enforcement for prison systems."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from pydantic import BaseModel

from vigil.contact import (
    attempts,
    bar_request,
    bars,
    bodies,
    casefile,
    casework,
    checks,
    figures,
    intake,
    intelligence,
    register,
)
from vigil.contact.model import CaseStatus
from vigil.contact.request_parsing import parse_request
from vigil.errors import ValidationError
from vigil.web.auth import ApiPrincipal, ContainerDep, api_principal, container
from vigil.web.params import RowId

router = APIRouter(prefix="/api/contact", tags=["contact"])


async def read_json(request: Request) -> Any:
    """The dial-time check's body as JSON (its size is capped by ``web.limits``); 422 when it
    is not JSON."""
    try:
        return json.loads(await request.body())
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


class Reference(BaseModel):
    reference: str


@router.post("/requests", status_code=201)
def submit_request(body: bodies.ContactRequest, request: Request, c: ContainerDep) -> Reference:
    """A partner agency's system submits a request; same validation and limits as the form."""
    if not c.public_form_limiter.allow(client_key(request)):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "rate: too many requests; wait")
    parsed = parse_request(body.as_json(), today=c.clock.now().date())
    with c.uow() as uow:
        reference = intake.submit_request(uow, c.cipher, parsed, channel="api")
        uow.commit()
    return Reference(reference=reference)


class Filed(BaseModel):
    id: int
    queue: str


@router.post("/intelligence", status_code=201)
async def report_intelligence(
    body: bodies.Intelligence, request: Request, c: ContainerDep
) -> Filed:
    """Staff (with a session or token) or the public report illicit phone use or other contact."""
    principal = None
    if request.headers.get("authorization"):
        principal = await api_principal(request)
    elif not c.public_form_limiter.allow(client_key(request)):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "rate: too many requests; wait")
    with c.uow() as uow:
        found = intelligence.submit_intelligence(uow, c.cipher, body.as_json(), principal=principal)
        uow.commit()
    return Filed(id=found, queue=casefile.SECURITY_QUEUE)


# --- enforcement (prison_system) -----------------------------------------------------------


async def call_check(request: Request) -> Response:
    """Dial-time check. A plain Starlette route (no dependency injection, no response model):
    prison phone systems call it for every dialled number, so per-request overhead matters."""
    c = container(request)
    principal = await api_principal(request)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise ValidationError("body", "must be a JSON object")
    result = checks.call_check(
        c.uow,
        c.enforcement_index,
        principal,
        data.get("prison_number"),
        data.get("number"),
        cipher=c.cipher,
    )
    return Response(bodies.call_check_body(result), media_type="application/json")


router.add_route(
    f"{router.prefix}/call-check", call_check, methods=["POST"], include_in_schema=False
)
# Published all the same, so prison phone systems read its contract with the rest.
OPENAPI_PATHS = {
    f"{router.prefix}/call-check": {
        "post": {
            "tags": ["contact"],
            "summary": "Dial-time check",
            "description": "May this prisoner call this number? For prison phone systems (a "
            "prison_system token); answered from memory.",
            "operationId": "call_check",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": bodies.CallCheck.model_json_schema()}},
            },
            "responses": {
                "200": {
                    "description": "Whether the call may go ahead, and why not.",
                    "content": {
                        "application/json": {"schema": bodies.CallCheckAnswer.model_json_schema()}
                    },
                }
            },
        }
    }
}


@router.post("/mail-check")
def mail_check(body: bodies.MailCheck, c: ContainerDep, principal: ApiPrincipal) -> dict[str, Any]:
    result = checks.mail_check(
        c.uow, c.enforcement_index, principal, body.prison_number, body.address, cipher=c.cipher
    )
    return {"allowed": result.allowed, "match": result.match, "score": result.score}


@router.get("/barred-numbers")
def barred_numbers(
    c: ContainerDep, principal: ApiPrincipal, since: str | None = None, limit: int = 1000
) -> dict[str, Any]:
    with c.uow() as uow:
        found = attempts.barred_numbers_since(uow, c.cipher, principal, since, limit)
        uow.commit()
    return dict(found)


# --- case handling (upcs_case_handler) -----------------------------------------------------


def _summary_json(s: casework.CaseSummary) -> dict[str, Any]:
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


def _detail_json(d: casework.CaseDetail) -> dict[str, Any]:
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
            case_id = casework.find_case(uow, principal, reference[:20])
            detail = casework.get_case(uow, c.cipher, principal, case_id)
            uow.commit()
            return {"cases": [_jsonable(_detail_json(detail))]}
        cases = casework.list_cases(uow, c.cipher, principal, status=case_status)
    return {"cases": [_summary_json(s) for s in cases]}


@router.get("/cases/{case_id}")
def get_case(case_id: RowId, c: ContainerDep, principal: ApiPrincipal) -> dict[str, Any]:
    with c.uow() as uow:
        detail = casework.get_case(uow, c.cipher, principal, case_id)
        uow.commit()
    result: dict[str, Any] = _jsonable(_detail_json(detail))
    return result


@router.get("/cases/{case_id}/candidates")
def candidates(case_id: RowId, c: ContainerDep, principal: ApiPrincipal) -> dict[str, Any]:
    with c.uow() as uow:
        found = register.candidates(uow, c.cipher, principal, case_id)
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


@router.post("/cases/{case_id}/match")
def match(
    case_id: RowId, body: bodies.Match, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, str]:
    prisoner_id = body.prisoner_id
    if prisoner_id is None:
        raise ValidationError("prisoner_id", "must be the id of a register entry")
    with c.uow() as uow:
        register.match_prisoner(uow, c.cipher, principal, case_id, prisoner_id)
        uow.commit()
    return {"status": "matched"}


@router.post("/cases/{case_id}/bars", status_code=201)
def create_bar(
    case_id: RowId, body: bodies.Bar, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, Any]:
    parsed = bar_request.parse_bar(body.as_json(), today=c.clock.now().date())
    with c.uow() as uow:
        bar_id = bars.bar(uow, c.cipher, principal, case_id, parsed, index=c.enforcement_index)
        uow.commit()
    return {"bar_id": bar_id}


@router.post("/bars/{bar_id}/lift")
def lift_bar(
    bar_id: RowId, body: bodies.Reason, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, str]:
    with c.uow() as uow:
        bars.lift_bar(uow, c.cipher, principal, bar_id, body.reason, index=c.enforcement_index)
        uow.commit()
    return {"status": "lifted"}


@router.post("/cases/{case_id}/decline")
def decline(
    case_id: RowId, body: bodies.Reason, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, str]:
    with c.uow() as uow:
        casework.decline(uow, c.cipher, principal, case_id, body.reason)
        uow.commit()
    return {"status": CaseStatus.DECLINED.value}


@router.post("/cases/{case_id}/information")
def ask_for_information(
    case_id: RowId, body: bodies.Question, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, str]:
    with c.uow() as uow:
        casework.ask_for_information(uow, c.cipher, principal, case_id, body.question)
        uow.commit()
    return {"status": CaseStatus.AWAITING_INFORMATION.value}


@router.post("/cases/{case_id}/notes", status_code=201)
def add_note(
    case_id: RowId, body: bodies.Note, c: ContainerDep, principal: ApiPrincipal
) -> dict[str, str]:
    with c.uow() as uow:
        casework.add_note(uow, c.cipher, principal, case_id, body.text)
        uow.commit()
    return {"status": "added"}


@router.get("/alerts")
def alerts(c: ContainerDep, principal: ApiPrincipal) -> dict[str, Any]:
    with c.uow() as uow:
        return {"alerts": _jsonable(attempts.open_alerts(uow, principal))}


@router.get("/statistics")
def statistics(c: ContainerDep, principal: ApiPrincipal) -> dict[str, Any]:
    with c.uow() as uow:
        stats = figures.statistics(uow, principal)
        uow.commit()
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
