"""HTTP routes of the gateways on the main app: machine-facing only, with a ``device_gateway``
bearer token: ``/api/gateways/fixes`` (JSON batch) and ``/api/gateways/import`` (CSV or GPX).

Devices themselves never come in here: the OsmAnd and OwnTracks HTTP protocols have doors of their
own (``gateways.http_door``), so the staff web app need not be reachable from the devices' network.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from vigil.errors import ValidationError
from vigil.gateways import imports, quarantine
from vigil.gateways.directory import KnownDevices
from vigil.gateways.intake import Intake
from vigil.gateways.metrics import GatewayCount
from vigil.gateways.model import DecodeError
from vigil.gateways.quarantine import Quarantine, QuarantinedDevice
from vigil.security import permissions
from vigil.tracking.model import Alarm
from vigil.web.auth import ApiPrincipal, ContainerDep

router = APIRouter(tags=["gateways"])
MAX_IMPORT = 32 * 1024 * 1024


class ImportedFix(BaseModel):
    """One fix of a JSON batch. The batch is parsed by ``imports.from_json`` (fast for 100,000
    rows, all-or-nothing with each bad field named, as the CSV and GPX imports); this model
    publishes its shape."""

    device: str = Field(min_length=3, max_length=64)
    time: str = Field(description="ISO 8601 with a zone, or seconds since 1970")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0)
    speed_mps: float | None = None
    heading: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None
    alarms: list[Alarm] | str = Field(default_factory=list, description="names, or ';'-separated")


class FixBatch(BaseModel):
    fixes: list[ImportedFix] = Field(max_length=imports.MAX_ROWS)


class Imported(BaseModel):
    accepted: int = Field(description="Fixes handed on to the engine.")
    quarantined: int = Field(description="Fixes of devices not registered and fitted then.")


def _body_schema(content: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": content}}


async def _intake(container: ContainerDep) -> Intake:
    """An intake checking against the register as it is now (a batch is rare enough to read it)."""

    def load() -> KnownDevices:
        with container.uow() as uow:
            return KnownDevices.load(uow)

    devices = await asyncio.to_thread(load)
    return Intake(container.bus, container.gateway_metrics, devices, Quarantine(container.uow))


async def _body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise DecodeError("oversize", f"body is over {limit} bytes")
    return bytes(body)


@router.post(
    "/api/gateways/fixes",
    openapi_extra=_body_schema({"application/json": {"schema": FixBatch.model_json_schema()}}),
)
async def import_json(
    request: Request, principal: ApiPrincipal, container: ContainerDep
) -> Imported:
    """A JSON batch ``{"fixes": [{"device", "time", "lat", "lon", "accuracy_m", ...}]}``."""
    principal.require(permissions.FIXES_SUBMIT)
    try:
        body = await _body(request, MAX_IMPORT)
    except DecodeError as exc:
        raise ValidationError("body", exc.detail) from exc
    fixes = imports.from_json(body, container.clock.now())
    screened = await (await _intake(container)).publish("import_json", fixes)
    return Imported(accepted=len(screened.good), quarantined=len(screened.held))


@router.post(
    "/api/gateways/import",
    openapi_extra=_body_schema(
        {
            "text/csv": {"schema": {"type": "string", "description": "device,time,lat,lon,..."}},
            "application/gpx+xml": {"schema": {"type": "string", "description": "GPX 1.1"}},
        }
    ),
)
async def import_file(
    request: Request,
    principal: ApiPrincipal,
    container: ContainerDep,
    format: Annotated[str, Query(pattern="^(csv|gpx)$")],
    device: Annotated[str, Query()] = "",
) -> Imported:
    """A CSV (``device,time,lat,lon,accuracy_m,...``) or GPX file as the request body."""
    principal.require(permissions.FIXES_IMPORT)
    try:
        body = await _body(request, MAX_IMPORT)
    except DecodeError as exc:
        raise ValidationError("body", exc.detail) from exc
    now = container.clock.now()
    if format == "csv":
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError("file", "must be UTF-8 text") from exc
        fixes = imports.from_csv(text, now)
    else:
        fixes = imports.from_gpx(body, device, now)
    screened = await (await _intake(container)).publish(f"import_{format}", fixes)
    return Imported(accepted=len(screened.good), quarantined=len(screened.held))


@router.get("/api/gateways/quarantine")
def refused_devices(
    principal: ApiPrincipal,
    container: ContainerDep,
    hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24,
) -> list[QuarantinedDevice]:
    """Devices the doors refused in the last ``hours`` (unknown, or not fitted at the fix time),
    with how many frames each sent and the last one as received."""
    since = container.clock.now() - timedelta(hours=hours)
    with container.uow() as uow:
        return quarantine.by_device(uow, principal, since)


@router.get("/api/gateways/metrics")
async def gateway_metrics(principal: ApiPrincipal, container: ContainerDep) -> list[GatewayCount]:
    """Counters by protocol: accepted fixes, rejections by reason, CRC mismatches, connections."""
    principal.require(permissions.GATEWAY_METRICS)
    return container.gateway_metrics.snapshot()
