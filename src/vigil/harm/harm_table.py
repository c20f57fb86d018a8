"""The stored harm index (offence weights): loading it and replacing it from a file."""

from __future__ import annotations

from sqlalchemy import (
    delete,
    insert,
    select,
)

from vigil.db.uow import UnitOfWork
from vigil.harm.harm_index import HarmIndex, default_index, parse_table
from vigil.harm.tables import (
    harm_index_entries,
)
from vigil.security import audit, permissions
from vigil.security.model import Principal


def load_harm_index(uow: UnitOfWork) -> HarmIndex:
    rows = uow.connection.execute(select(harm_index_entries)).all()
    base = default_index()
    if not rows:
        return base
    return base.with_overrides([(r.kind, r.key, r.days) for r in rows], source=rows[0].source)


def replace_harm_table(
    uow: UnitOfWork, content: bytes, *, filename: str, principal: Principal
) -> int:
    """Load a per-offence table (CSV or XLSX) over the default; all rows or none."""
    principal.require(permissions.HARM_MATRIX)
    actor = principal.actor
    parsed = parse_table(content, filename)
    now = uow.clock.now()
    uow.connection.execute(delete(harm_index_entries))
    seen: dict[tuple[str, str], float] = {}
    for kind, key, days in parsed:
        seen[(kind, " ".join(key.lower().split()))] = days
    uow.connection.execute(
        insert(harm_index_entries),
        [
            {"kind": kind, "key": key, "days": days, "source": filename[:200], "loaded_at": now}
            for (kind, key), days in seen.items()
        ],
    )
    audit.record(
        uow.connection,
        at=now,
        actor=actor,
        action="harm.index.load",
        subject_type="harm_index",
        detail={"filename": filename, "entries": len(seen)},
    )
    return len(seen)
