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

from vigil.errors import ValidationError
from vigil.gateways import imports, quarantine
from vigil.gateways.directory import KnownDevices
from vigil.gateways.intake import Intake
from vigil.gateways.metrics import metrics_for
from vigil.gateways.model import DecodeError
from vigil.gateways.quarantine import Quarantine, QuarantinedDevice
from vigil.security.model import Role
from vigil.web.auth import ApiPrincipal, ContainerDep, require_roles

router = APIRouter(tags=["gateways"])
MAX_IMPORT = 32 * 1024 * 1024


async def _intake(container: ContainerDep) -> Intake:
    """An intake checking against the register as it is now (a batch is rare enough to read it)."""

    def load() -> KnownDevices:
        with container.uow() as uow:
            return KnownDevices.load(uow)

    devices = await asyncio.to_thread(load)
    return Intake(container.bus, metrics_for(container.extras), devices, Quarantine(container.uow))


async def _body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise DecodeError("oversize", f"body is over {limit} bytes")
    return bytes(body)


@router.post("/api/gateways/fixes")
async def import_json(
    request: Request, principal: ApiPrincipal, container: ContainerDep
) -> dict[str, Any]:
    """A JSON batch ``{"fixes": [{"device", "time", "lat", "lon", "accuracy_m", ...}]}``."""
    require_roles(principal, Role.DEVICE_GATEWAY)
    try:
        body = await _body(request, MAX_IMPORT)
    except DecodeError as exc:
        raise ValidationError("body", exc.detail) from exc
    fixes = imports.from_json(body, container.clock.now())
    screened = await (await _intake(container)).publish("import_json", fixes)
    return {"accepted": len(screened.good), "quarantined": len(screened.held)}


@router.post("/api/gateways/import")
async def import_file(
    request: Request,
    principal: ApiPrincipal,
    container: ContainerDep,
    format: Annotated[str, Query(pattern="^(csv|gpx)$")],
    device: Annotated[str, Query()] = "",
) -> dict[str, Any]:
    """A CSV (``device,time,lat,lon,accuracy_m,...``) or GPX file as the request body."""
    require_roles(principal, Role.DEVICE_GATEWAY, Role.ADMIN)
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
    return {"accepted": len(screened.good), "quarantined": len(screened.held)}


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
async def gateway_metrics(
    principal: ApiPrincipal, container: ContainerDep
) -> list[dict[str, object]]:
    """Counters by protocol: accepted fixes, rejections by reason, CRC mismatches, connections."""
    require_roles(principal, Role.ADMIN, Role.DEVICE_GATEWAY)
    return metrics_for(container.extras).snapshot()
