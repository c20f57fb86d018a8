"""Harm matrix JSON API, for analysts: the latest matrix and a new run."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from vigil.harm.matrix import matrix
from vigil.harm.runs import as_of_start, compute_run, get_run
from vigil.web.auth import ApiPrincipal, ContainerDep
from vigil.web.params import RowId

router = APIRouter(prefix="/api/harm", tags=["harm"])


class RunRequest(BaseModel):
    as_of: date


@router.get("/matrix")
def latest_matrix(
    principal: ApiPrincipal,
    c: ContainerDep,
    run: RowId | None = None,
    force: str | None = None,
    top: int = 100,
) -> dict[str, Any]:
    with c.uow() as uow:
        summary = get_run(uow, principal, run)
        rows = matrix(uow, principal, summary.id, force=force, top=top)
    return {
        "run": summary.id,
        "as_of": summary.as_of.isoformat(),
        "notice": "The matrix supports human decisions and decides nothing.",
        "rows": [{**asdict(r), "movement": r.movement.value} for r in rows],
    }


@router.post("/runs", status_code=201)
def create_run(body: RunRequest, principal: ApiPrincipal, c: ContainerDep) -> dict[str, int]:
    with c.uow() as uow:
        run_id = compute_run(uow, as_of=as_of_start(body.as_of), principal=principal)
        uow.commit()
    return {"run": run_id}
