"""Analysts' decisions on identities: merging two records into one person, splitting one off."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import (
    insert,
    select,
)

from vigil.db.uow import UnitOfWork
from vigil.errors import NotFound, ValidationError
from vigil.harm.identity_links import (
    IDENTITY_SCHEMA,
    load_identities,
    party_context,
    resolve_and_store,
    stored_links,
)
from vigil.harm.model import (
    DecisionKind,
    PartyRole,
)
from vigil.harm.resolution import ResolutionStats
from vigil.harm.tables import (
    harm_decisions,
    harm_identities,
)
from vigil.security import audit, permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal


def _identity(uow: UnitOfWork, role: PartyRole, identity_id: int) -> Any:
    row = uow.connection.execute(
        select(harm_identities).where(
            harm_identities.c.id == identity_id, harm_identities.c.role == role.value
        )
    ).first()
    if row is None:
        raise NotFound(f"{role.value} record {identity_id}")
    return row


def _decide(
    uow: UnitOfWork,
    cipher: FieldCipher,
    role: PartyRole,
    kind: DecisionKind,
    a: int,
    b: int | None,
    reason: str,
    actor: str,
) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError("reason", "say why (it is kept with the decision)")
    if len(reason) > 1000:
        raise ValidationError("reason", "is longer than 1000 characters")
    _identity(uow, role, a)
    if b is not None:
        if b == a:
            raise ValidationError("identity_b", "must be a different record")
        _identity(uow, role, b)
    uow.connection.execute(
        insert(harm_decisions).values(
            role=role.value,
            kind=kind.value,
            identity_a=a,
            identity_b=b,
            reason=reason,
            actor=actor,
            at=uow.clock.now(),
        )
    )
    loaded = load_identities(uow, cipher, (PartyRole.SUSPECT, PartyRole.VICTIM))
    victim_keys = loaded[PartyRole.VICTIM].select("id", "person_key")
    resolve_and_store(
        uow,
        cipher,
        role,
        loaded[role],
        pl.DataFrame(schema=IDENTITY_SCHEMA),
        ResolutionStats(),
        party_context(stored_links(uow), role, victim_keys),
        kind.value,
    )
    key: str = _identity(uow, role, a).person_key
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=actor,
        action=f"harm.{kind.value}",
        subject_type=f"harm_{role.value}",
        subject_id=a,
        detail={"other": b, "person_key": key},
    )
    return key


def merge(
    uow: UnitOfWork,
    cipher: FieldCipher,
    *,
    role: PartyRole,
    identity_a: int,
    identity_b: int,
    reason: str,
    principal: Principal,
) -> str:
    """Join two records into one person by hand; returns the person's key."""
    principal.require(permissions.HARM_MATRIX)
    actor = principal.actor
    return _decide(uow, cipher, role, DecisionKind.MERGE, identity_a, identity_b, reason, actor)


def split(
    uow: UnitOfWork,
    cipher: FieldCipher,
    *,
    role: PartyRole,
    identity_id: int,
    reason: str,
    principal: Principal,
) -> str:
    """Take a record out of its person by hand; it stands alone from then on."""
    principal.require(permissions.HARM_MATRIX)
    actor = principal.actor
    return _decide(uow, cipher, role, DecisionKind.SPLIT, identity_id, None, reason, actor)
