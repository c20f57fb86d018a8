"""People JSON API: persons in the caller's caseload, their protected persons, reference data."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from vigil.people import prison_register, protected_details, reference_data, service
from vigil.people.model import PersonDraft, ProtectedPersonDraft, Relationship, RiskLevel
from vigil.web.auth import ApiPrincipal, ContainerDep
from vigil.web.params import RowId

router = APIRouter(prefix="/api", tags=["people"])


class PersonBody(BaseModel):
    first_name: str = Field(max_length=120)
    last_name: str = Field(max_length=120)
    date_of_birth: date
    risk_level: RiskLevel
    managing_team_id: RowId | None = None
    force_area: str | None = Field(default=None, max_length=10)
    pnc_id: str | None = Field(default=None, max_length=20)
    prison_number: str | None = Field(default=None, max_length=10)
    crn: str | None = Field(default=None, max_length=10)
    aliases: list[str] = Field(default_factory=list, max_length=20)
    home_address: str | None = Field(default=None, max_length=500)
    prison_code: str | None = Field(default=None, max_length=10)

    def draft(self) -> PersonDraft:
        return PersonDraft(**self.model_dump())


class ProtectedPersonBody(BaseModel):
    full_name: str = Field(max_length=240)
    relationship: Relationship
    address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)


class TeamBody(BaseModel):
    name: str = Field(max_length=120)
    region_code: str = Field(max_length=10)
    force_area: str = Field(max_length=10)


class OfficerBody(BaseModel):
    name: str = Field(max_length=200)
    team_id: RowId
    email: str | None = Field(default=None, max_length=320)
    user_id: RowId | None = None


@router.get("/persons")
def list_persons(principal: ApiPrincipal, c: ContainerDep) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [p.as_dict() for p in service.list_persons(uow, principal)]


@router.post("/persons", status_code=status.HTTP_201_CREATED)
def create_person(body: PersonBody, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        person_id = service.create_person(uow, principal, body.draft())
        created = service.get_person(uow, principal, person_id).as_dict()
        uow.commit()
    return created


@router.get("/persons/{person_id}")
def get_person(person_id: RowId, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        return service.get_person(uow, principal, person_id).as_dict()


@router.put("/persons/{person_id}")
def update_person(
    person_id: RowId, body: PersonBody, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    with c.uow() as uow:
        service.update_person(uow, principal, person_id, body.draft())
        updated = service.get_person(uow, principal, person_id).as_dict()
        uow.commit()
    return updated


@router.get("/persons/{person_id}/protected-persons")
def list_protected_persons(
    person_id: RowId, principal: ApiPrincipal, c: ContainerDep
) -> list[dict[str, Any]]:
    """Details are shown only to roles that act on them; every view is audited."""
    with c.uow() as uow:
        found = protected_details.list_protected_persons(uow, principal, c.cipher, person_id)
        uow.commit()  # the audited views
    return [p.as_dict() for p in found]


@router.post("/persons/{person_id}/protected-persons", status_code=status.HTTP_201_CREATED)
def add_protected_person(
    person_id: RowId, body: ProtectedPersonBody, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    draft = ProtectedPersonDraft(**body.model_dump())
    with c.uow() as uow:
        protected_id = protected_details.add_protected_person(
            uow, principal, c.cipher, person_id, draft
        )
        uow.commit()
    return {"id": protected_id, "person_id": person_id}


@router.get("/protected-persons/{protected_id}")
def get_protected_person(
    protected_id: RowId, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    with c.uow() as uow:
        found = protected_details.get_protected_person(uow, principal, c.cipher, protected_id)
        uow.commit()  # the audited view
    return found.as_dict()


@router.get("/regions")
def regions(principal: ApiPrincipal, c: ContainerDep) -> list[dict[str, str]]:
    with c.uow() as uow:
        return [asdict(region) for region in reference_data.list_regions(uow)]


@router.get("/force-areas")
def force_areas(principal: ApiPrincipal, c: ContainerDep) -> list[dict[str, str]]:
    with c.uow() as uow:
        return [asdict(area) for area in reference_data.list_force_areas(uow)]


@router.get("/teams")
def teams(principal: ApiPrincipal, c: ContainerDep) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [t.__dict__ for t in reference_data.list_teams(uow)]


@router.post("/teams", status_code=status.HTTP_201_CREATED)
def add_team(body: TeamBody, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        team_id = reference_data.add_team(uow, **body.model_dump(), actor=principal.actor)
        uow.commit()
    return {"id": team_id, **body.model_dump()}


@router.get("/officers")
def officers(
    principal: ApiPrincipal, c: ContainerDep, team_id: RowId | None = None
) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [o.__dict__ for o in reference_data.list_officers(uow, team_id)]


@router.post("/officers", status_code=status.HTTP_201_CREATED)
def add_officer(body: OfficerBody, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        officer_id = reference_data.add_officer(uow, **body.model_dump(), actor=principal.actor)
        uow.commit()
    return {"id": officer_id, **body.model_dump()}


@router.get("/prisons")
def prisons(principal: ApiPrincipal, c: ContainerDep) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [dict(prison) for prison in prison_register.list_prisons(uow)]
