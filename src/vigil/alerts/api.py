"""Alerts API (JSON under /api/alerts) and the live stream of alert changes (server-sent events).

Entry points only translate: parse and validate the request, call a use case in one unit of
work, publish the committed changes, answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from vigil.alerts import alert_reads, lifecycle, service, suppression_windows
from vigil.alerts.alert_reads import AlertDetail, AlertRecord
from vigil.alerts.channels.sse import KEEPALIVE, frame
from vigil.alerts.model import AlertChange, AlertStatus, Severity
from vigil.bootstrap import Container
from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.text import ascii_digits
from vigil.web.auth import ApiPrincipal, ContainerDep
from vigil.web.params import RowId

router = APIRouter(prefix="/api/alerts", tags=["alerts"])
KEEPALIVE_S = 15.0
T = TypeVar("T")


class NoteIn(BaseModel):
    note: str | None = Field(default=None, max_length=service.MAX_NOTE)


class ResolveIn(BaseModel):
    outcome: str | None = None
    note: str | None = Field(default=None, max_length=service.MAX_NOTE)


class SuppressionIn(BaseModel):
    person_id: str = Field(min_length=1, max_length=64)
    condition_id: str | None = Field(default=None, max_length=64)
    order_id: str | None = Field(default=None, max_length=64)
    kind: str
    reason: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class OptInIn(BaseModel):
    opted_in: bool


def _parse_list(raw: str | None, enum: type[Any], field: str) -> list[Any]:
    if not raw:
        return []
    out = []
    for part in raw.split(","):
        try:
            out.append(enum(part.strip()))
        except ValueError as exc:
            choices = ", ".join(member.value for member in enum)
            raise ValidationError(field, f"{part.strip()!r} is not one of {choices}") from exc
    return out


async def _act(
    c: Container, use_case: Callable[[UnitOfWork], T], changes: Callable[[T], list[AlertChange]]
) -> T:
    def work() -> T:
        with c.uow() as uow:
            result = use_case(uow)
            uow.commit()
            return result

    result = await asyncio.to_thread(work)
    await c.alerts.publish_changes(changes(result))
    return result


@router.get("")
async def list_alerts(
    principal: ApiPrincipal,
    c: ContainerDep,
    status: Annotated[str | None, Query(description="Comma-separated statuses")] = None,
    severity: Annotated[str | None, Query(description="Comma-separated severities")] = None,
    person_id: str | None = None,
    escalated: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    flt = alert_reads.AlertFilter(
        status=_parse_list(status, AlertStatus, "status"),
        severity=_parse_list(severity, Severity, "severity"),
        person_id=person_id,
        escalated=escalated,
        limit=limit,
    )

    def work() -> list[AlertRecord]:
        with c.uow() as uow:
            return alert_reads.list_alerts(uow, principal, flt)

    return {"alerts": await asyncio.to_thread(work)}


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "A server-sent event stream of alert changes.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def stream(principal: ApiPrincipal, c: ContainerDep, request: Request) -> StreamingResponse:
    """Server-sent events: every change to an alert the user may see, as it commits.

    Send ``Last-Event-ID`` (browsers do on reconnect) to receive what was missed first.
    """
    hub = c.alerts.live_hub()
    subscriber = hub.connect(principal)
    last_id = request.headers.get("last-event-id", "")
    missed: list[AlertChange] = []
    if ascii_digits(last_id):

        def replay() -> list[AlertChange]:
            with c.uow() as uow:
                return alert_reads.changes_since(uow, principal, int(last_id))

        missed = await asyncio.to_thread(replay)

    async def events() -> AsyncIterator[str]:
        seen = max((m.history_id for m in missed), default=0)
        try:
            yield "retry: 2000\n\n"
            for change in missed:
                yield frame(change)
            while True:
                try:
                    next_change: AlertChange | None = await asyncio.wait_for(
                        subscriber.queue.get(), timeout=KEEPALIVE_S
                    )
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield KEEPALIVE
                    continue
                if next_change is None:
                    return
                if next_change.history_id <= seen:
                    continue  # already sent during replay
                yield frame(next_change)
        finally:
            hub.disconnect(subscriber)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/{alert_id}")
async def get_alert(alert_id: RowId, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    def work() -> AlertDetail:
        with c.uow() as uow:
            return alert_reads.get_alert(uow, principal, alert_id)

    # The JSON edge: the record as the API answers it.
    return dict(await asyncio.to_thread(work))


@router.post("/{alert_id}/acknowledge")
async def acknowledge(
    alert_id: RowId, body: NoteIn, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    change = await _act(
        c, lambda uow: lifecycle.acknowledge(uow, principal, alert_id, body.note), lambda ch: [ch]
    )
    return change.as_json()


@router.post("/{alert_id}/escalate")
async def escalate(
    alert_id: RowId, body: NoteIn, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    ctx = c.alerts.context
    change = await _act(
        c,
        lambda uow: lifecycle.escalate(uow, principal, alert_id, body.note, ctx),
        lambda ch: [ch],
    )
    return change.as_json()


@router.post("/{alert_id}/resolve")
async def resolve(
    alert_id: RowId, body: ResolveIn, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    change = await _act(
        c,
        lambda uow: lifecycle.resolve(uow, principal, alert_id, body.outcome, body.note),
        lambda ch: [ch],
    )
    return change.as_json()


@router.post("/{alert_id}/notes", status_code=201)
async def add_note(
    alert_id: RowId, body: NoteIn, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    change = await _act(
        c, lambda uow: lifecycle.add_note(uow, principal, alert_id, body.note), lambda ch: [ch]
    )
    return change.as_json()


@router.post("/suppressions", status_code=201)
async def add_suppression(
    body: SuppressionIn, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    ctx = c.alerts.context
    suppression_id = await _act(
        c,
        lambda uow: suppression_windows.add_suppression(
            uow,
            principal,
            ctx,
            person_id=body.person_id,
            condition_id=body.condition_id,
            order_id=body.order_id,
            kind=body.kind,
            reason=body.reason,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
        ),
        lambda _id: [],
    )
    return {"id": suppression_id}


@router.delete("/suppressions/{suppression_id}", status_code=204)
async def cancel_suppression(
    suppression_id: RowId, principal: ApiPrincipal, c: ContainerDep
) -> None:
    ctx = c.alerts.context
    await _act(
        c,
        lambda uow: suppression_windows.cancel_suppression(uow, principal, ctx, suppression_id),
        lambda _none: [],
    )


@router.put("/protected-persons/{protected_person_id}/notifications")
async def set_opt_in(
    protected_person_id: str, body: OptInIn, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    await _act(
        c,
        lambda uow: service.set_protected_person_opt_in(
            uow, principal, protected_person_id, body.opted_in
        ),
        lambda _none: [],
    )
    return {"protected_person_id": protected_person_id, "opted_in": body.opted_in}
