"""Devices JSON API: inventory, allocations (fit / remove) and device-to-person resolution."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import AwareDatetime, BaseModel, Field

from vigil.devices import keys, service
from vigil.devices.model import DeviceType, HolderKind
from vigil.web.auth import ApiPrincipal, ContainerDep
from vigil.web.params import RowId

router = APIRouter(prefix="/api", tags=["devices"])


class DeviceBody(BaseModel):
    external_id: str = Field(max_length=64)
    type: DeviceType
    model: str | None = Field(default=None, max_length=120)


class AllocationBody(BaseModel):
    holder_kind: HolderKind = HolderKind.PERSON
    holder_id: RowId
    fitted_at: AwareDatetime


class RemovalBody(BaseModel):
    removed_at: AwareDatetime
    reason: str = Field(max_length=200)


@router.get("/devices")
def list_devices(
    principal: ApiPrincipal, c: ContainerDep, person_id: RowId | None = None
) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [d.as_dict() for d in service.list_devices(uow, principal, person_id)]


@router.post("/devices", status_code=status.HTTP_201_CREATED)
def register_device(body: DeviceBody, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        device_id = service.register_device(
            uow, principal, external_id=body.external_id, device_type=body.type, model=body.model
        )
        registered = service.get_device(uow, principal, device_id).as_dict()
        uow.commit()
    return registered


@router.get("/devices/{device_id}")
def get_device(device_id: RowId, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        return service.get_device(uow, principal, device_id).as_dict()


@router.get("/devices/{device_id}/allocations")
def list_allocations(
    device_id: RowId, principal: ApiPrincipal, c: ContainerDep
) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [a.as_dict() for a in service.list_allocations(uow, principal, device_id)]


@router.post("/devices/{device_id}/allocations", status_code=status.HTTP_201_CREATED)
def allocate(
    device_id: RowId, body: AllocationBody, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    with c.uow() as uow:
        allocation_id = service.allocate(
            uow,
            principal,
            device_id=device_id,
            holder_kind=body.holder_kind,
            holder_id=body.holder_id,
            fitted_at=body.fitted_at,
        )
        uow.commit()
    return {"id": allocation_id, "device_id": device_id}


@router.post("/devices/{device_id}/removal")
def remove(
    device_id: RowId, body: RemovalBody, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    with c.uow() as uow:
        service.remove(
            uow, principal, device_id=device_id, removed_at=body.removed_at, reason=body.reason
        )
        removed = service.get_device(uow, principal, device_id).as_dict()
        uow.commit()
    return removed


class DeviceKey(BaseModel):
    device_id: int
    key: str = Field(description="Shown once; the phone sends it with every report.")


@router.post("/devices/{device_id}/key", status_code=status.HTTP_201_CREATED)
def issue_key(device_id: RowId, principal: ApiPrincipal, c: ContainerDep) -> DeviceKey:
    """A new key for a phone or app reporting through the OsmAnd or OwnTracks HTTP door; the
    device's previous key stops working when the doors next refresh their register."""
    with c.uow() as uow:
        key = keys.issue_key(uow, principal, device_id)
        uow.commit()
    return DeviceKey(device_id=device_id, key=key)


@router.get("/device-holders/{external_id}")
def holder(
    external_id: str, principal: ApiPrincipal, c: ContainerDep, at: AwareDatetime | None = None
) -> dict[str, Any]:
    """Which monitored person wore a device at a moment (for gateways and the engine)."""
    with c.uow() as uow:
        person = service.person_for_device(uow, external_id, at or c.clock.now())
    return {"external_id": external_id, "person_id": person}
