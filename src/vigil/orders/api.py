"""Orders JSON API: orders and their versions, pilot eligibility, and the monitoring plan."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import AwareDatetime, BaseModel, Field

from vigil.errors import ValidationError
from vigil.orders import pilot_screening, plan_for_engine, service
from vigil.orders.model import OrderDraft, Pilot, VersionKind
from vigil.web.auth import ApiPrincipal, ContainerDep
from vigil.web.params import RowId

router = APIRouter(prefix="/api", tags=["orders"])


class OrderBody(BaseModel):
    person_id: RowId
    pilot: Pilot
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    responsible_officer_id: RowId | None = None
    # Checked condition by condition in the domain, so each error names conditions[i].<field>.
    conditions: list[dict[str, Any]] = Field(max_length=50)


class VersionBody(BaseModel):
    kind: Literal["variation", "revocation", "end_of_monitoring"]
    effective_at: AwareDatetime
    reason: str = Field(max_length=2000)
    conditions: list[dict[str, Any]] | None = Field(default=None, max_length=50)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class EligibilityBody(BaseModel):
    person_id: RowId
    domestic_abuse_sentence: bool
    accommodation_viable: bool
    proportionality_note: str = Field(max_length=5000)
    release_region_code: str | None = Field(default=None, max_length=10)


@router.get("/orders")
def list_orders(
    principal: ApiPrincipal, c: ContainerDep, person_id: RowId | None = None
) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [o.as_dict() for o in service.list_orders(uow, principal, person_id)]


@router.post("/orders", status_code=status.HTTP_201_CREATED)
def create_order(body: OrderBody, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    draft = OrderDraft(**body.model_dump())
    with c.uow() as uow:
        order_id = service.create_order(uow, principal, draft)
        created = service.get_order(uow, principal, order_id).as_dict()
        uow.commit()
    return created


@router.get("/orders/{order_id}")
def get_order(order_id: RowId, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        return service.get_order(uow, principal, order_id).as_dict()


@router.get("/orders/{order_id}/versions")
def list_versions(
    order_id: RowId, principal: ApiPrincipal, c: ContainerDep
) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [v.as_dict() for v in service.list_versions(uow, principal, order_id)]


@router.post("/orders/{order_id}/versions", status_code=status.HTTP_201_CREATED)
def add_version(
    order_id: RowId, body: VersionBody, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    """A variation carries the full new set of conditions; revocation and end carry none."""
    with c.uow() as uow:
        if body.kind == "variation":
            if body.conditions is None:
                raise ValidationError("conditions", "a variation lists the conditions it imposes")
            number = service.vary_order(
                uow,
                principal,
                order_id,
                conditions_in=body.conditions,
                effective_at=body.effective_at,
                reason=body.reason,
                starts_at=body.starts_at,
                ends_at=body.ends_at,
            )
        else:
            number = service.close_order(
                uow,
                principal,
                order_id,
                kind=VersionKind(body.kind),
                effective_at=body.effective_at,
                reason=body.reason,
            )
        varied = service.get_order(uow, principal, order_id).as_dict()
        uow.commit()
    return {"version": number, "order": varied}


@router.get("/eligibility")
def list_decisions(
    principal: ApiPrincipal, c: ContainerDep, person_id: RowId | None = None
) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [d.as_dict() for d in pilot_screening.list_decisions(uow, principal, person_id)]


@router.post("/eligibility", status_code=status.HTTP_201_CREATED)
def screen(body: EligibilityBody, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        decision = pilot_screening.screen_for_pilot(
            uow,
            principal,
            **body.model_dump(),
            region_capacity=c.settings.pilot_region_capacity,
        )
        uow.commit()
    return decision.as_dict()


@router.get("/monitoring-plan")
def monitoring_plan(
    principal: ApiPrincipal, c: ContainerDep, at: AwareDatetime | None = None
) -> dict[str, Any]:
    """Every monitored person's devices and conditions in force (the replay scenario shape)."""
    with c.uow() as uow:
        return plan_for_engine.monitoring_plan_json(
            uow, at or c.clock.now(), timezone=c.settings.timezone
        )
