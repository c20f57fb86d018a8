"""Links JSON API: a person's links (find, confirm, undo), his whole story, the release plan."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vigil.links import release_planning, service, story, views
from vigil.links.service import FindReport
from vigil.web.auth import ApiPrincipal, ContainerDep
from vigil.web.params import RowId

router = APIRouter(prefix="/api", tags=["links"])


class UndoBody(BaseModel):
    reason: str = Field(max_length=500)


@router.get("/persons/{person_id}/links")
def person_links(
    person_id: RowId, principal: ApiPrincipal, c: ContainerDep
) -> list[dict[str, Any]]:
    with c.uow() as uow:
        return [views.link_json(link) for link in service.links_of(uow, principal, person_id)]


@router.post("/persons/{person_id}/links/find")
def find_links(person_id: RowId, principal: ApiPrincipal, c: ContainerDep) -> FindReport:
    with c.uow() as uow:
        report = service.find_person_links(uow, principal, person_id)
        uow.commit()
    return report


@router.post("/links/{link_id}/confirm")
def confirm(link_id: RowId, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        link = service.confirm_link(uow, principal, link_id)
        uow.commit()
    return views.link_json(link)


@router.post("/links/{link_id}/undo")
def undo(
    link_id: RowId, body: UndoBody, principal: ApiPrincipal, c: ContainerDep
) -> dict[str, Any]:
    with c.uow() as uow:
        link = service.undo_link(uow, principal, link_id, body.reason)
        uow.commit()
    return views.link_json(link)


@router.get("/persons/{person_id}/story")
def person_story(person_id: RowId, principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        found = story.person_story(uow, principal, person_id)
        uow.commit()  # the audited view
    return views.story_json(found)


@router.get("/release-plan")
def release_plan(
    principal: ApiPrincipal,
    c: ContainerDep,
    weeks: Annotated[int, Query(ge=1, le=release_planning.MAX_WEEKS)] = 12,
) -> list[dict[str, Any]]:
    with c.uow() as uow:
        plan = release_planning.release_plan(uow, c.cipher, principal, weeks)
        uow.commit()  # the audited view
    return [views.candidate_json(candidate) for candidate in plan]
