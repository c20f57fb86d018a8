"""Security API: who am I, and the audit chain check for auditors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vigil.security import audit, sign_in
from vigil.web.auth import ApiPrincipal, ContainerDep
from vigil.web.params import RowId

router = APIRouter(prefix="/api", tags=["security"])


@router.get("/me")
def me(principal: ApiPrincipal) -> dict[str, Any]:
    return {
        "id": principal.id,
        "name": principal.name,
        "role": principal.role.value,
        "team_id": principal.team_id,
        "force_area": principal.force_area,
        "machine": principal.is_machine,
    }


@router.get("/audit/verify")
def verify_audit(principal: ApiPrincipal, c: ContainerDep) -> dict[str, Any]:
    with c.engine.connect() as connection:
        report = audit.verify(connection)
    return {
        "entries": report.entries,
        "intact": report.intact,
        "first_broken_id": report.first_broken_id,
        "reason": report.reason,
    }


@router.post("/users/{user_id}/sessions/end")
def end_user_sessions(user_id: RowId, principal: ApiPrincipal, c: ContainerDep) -> dict[str, int]:
    """An administrator ends every session of a user (a leaver, a suspected compromise)."""
    with c.uow() as uow:
        ended = sign_in.end_all_sessions(uow, user_id, principal.actor)
        uow.commit()
    return {"ended": ended}
