"""Resolving stored and new parties to identities, and storing the links and the model used."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

import polars as pl
from sqlalchemy import (
    String,
    bindparam,
    cast,
    insert,
    select,
    update,
)

from vigil.db.uow import UnitOfWork
from vigil.harm import bulk
from vigil.harm.model import (
    DecisionKind,
    PartyRole,
    canonical_given,
    normalise_name,
)
from vigil.harm.names import name_parts
from vigil.harm.resolution import ResolutionStats, resolve_frame
from vigil.harm.tables import (
    harm_decisions,
    harm_identities,
    harm_linkage_models,
)
from vigil.security.crypto import FieldCipher

VICTIM_DETAILS_FIELD = "harm_identities.details_enc"


IDENTITY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "id": pl.Int64,
    "exact_key": pl.Utf8,
    "source_id": pl.Utf8,
    "name": pl.Utf8,
    "dob": pl.Date,
    "person_key": pl.Utf8,
    "link_reason": pl.Utf8,
    "link_score": pl.Float64,
    "linked_to": pl.Int64,
    "link_evidence": pl.Utf8,
}


def load_identities(
    uow: UnitOfWork, cipher: FieldCipher, roles: Sequence[PartyRole]
) -> dict[PartyRole, pl.DataFrame]:
    """Stored identities of the given sides; victims' details decrypted in memory only.

    One scan of the table in storage order (a ``WHERE role`` would make SQLite walk the unique
    index and sort), through the driver's cursor in chunks, shaped by polars: only the
    decryption itself is a Python loop (one call per stored victim, nothing else per row).
    """
    raw = _scan_identities(uow)
    out = {}
    for role in roles:
        part = raw.filter(pl.col("role") == role.value).sort("id")
        if role is PartyRole.VICTIM:
            part = _with_victim_details(part, cipher)
        out[role] = part.select(
            "id",
            "exact_key",
            "source_id",
            name=pl.col("display_name").fill_null(""),
            dob=pl.col("dob_text").replace("", None).str.to_date("%Y-%m-%d"),
            person_key="person_key",
            link_reason="link_reason",
            link_score="link_score",
            linked_to="linked_to",
            link_evidence="link_evidence",
        )
    return out


_IDENTITY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "role": pl.Utf8,
    "id": pl.Int64,
    "exact_key": pl.Utf8,
    "source_id": pl.Utf8,
    "display_name": pl.Utf8,
    "dob_text": pl.Utf8,
    "details_enc": pl.Utf8,
    "person_key": pl.Utf8,
    "link_reason": pl.Utf8,
    "link_score": pl.Float64,
    "linked_to": pl.Int64,
    "link_evidence": pl.Utf8,
}


def _scan_identities(uow: UnitOfWork) -> pl.DataFrame:
    t = harm_identities.c
    query = select(
        t.role,
        t.id,
        t.exact_key,
        t.source_id,
        t.display_name,
        cast(t.dob, String),
        t.details_enc,
        t.person_key,
        t.link_reason,
        t.link_score,
        t.linked_to,
        t.link_evidence,
    )
    sql = str(query.compile(uow.engine, compile_kwargs={"literal_binds": True}))
    return bulk.read_chunks(uow, sql, _IDENTITY_SCHEMA)


def _with_victim_details(part: pl.DataFrame, cipher: FieldCipher) -> pl.DataFrame:
    """A victim's name and date of birth are stored only encrypted (date, then name)."""
    decrypt = cipher.decrypt
    details = pl.Series(
        [
            decrypt(value, VICTIM_DETAILS_FIELD) if value is not None else "\x1f"
            for value in part["details_enc"].to_list()
        ],
        dtype=pl.Utf8,
    ).str.splitn("\x1f", 2)
    return part.with_columns(
        display_name=details.struct.field("field_1").fill_null(""),
        dob_text=details.struct.field("field_0"),
    )


def party_context(
    links: pl.DataFrame, role: PartyRole, victim_keys: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per identity of one side, what the linkage model compares besides name and date of birth:
    the force areas of its incidents and (suspects) the resolved victims of its incidents.

    ``links`` is ``suspect_identity_id, victim_identity_id, force`` per incident; ``victim_keys``
    ``id, person_key`` of the victims' identities.
    """
    own = "suspect_identity_id" if role is PartyRole.SUSPECT else "victim_identity_id"
    present = links.filter(pl.col(own).is_not_null())
    if role is PartyRole.SUSPECT and victim_keys is not None:
        present = present.join(
            victim_keys.select(victim_identity_id="id", victim_key="person_key"),
            on="victim_identity_id",
            how="left",
        )
    else:
        present = present.with_columns(victim_key=pl.lit(None, dtype=pl.Utf8))
    return (
        present.group_by(own)
        .agg(
            victims=pl.col("victim_key").drop_nulls().unique().sort(),
            forces=pl.col("force").drop_nulls().unique().sort(),
        )
        .select(pl.col(own).cast(pl.Int64).alias("id"), "victims", "forces")
    )


def stored_links(uow: UnitOfWork) -> pl.DataFrame:
    return bulk.read_chunks(
        uow,
        "SELECT suspect_identity_id, victim_identity_id, force FROM harm_incidents",
        {"suspect_identity_id": pl.Int64, "victim_identity_id": pl.Int64, "force": pl.Utf8},
    )


def latest_model_json(uow: UnitOfWork, role: PartyRole) -> tuple[int, dict[str, Any]] | None:
    row = uow.connection.execute(
        select(harm_linkage_models.c.id, harm_linkage_models.c.model)
        .where(harm_linkage_models.c.role == role.value)
        .order_by(harm_linkage_models.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row.id), json.loads(row.model))


def _store_model(uow: UnitOfWork, role: PartyRole, stats: ResolutionStats, trigger: str) -> None:
    """Keep the model a resolution used, so it can be reproduced and its links explained."""
    if stats.model is None:
        return
    uow.connection.execute(
        insert(harm_linkage_models).values(
            role=role.value,
            created_at=uow.clock.now(),
            trigger=trigger,
            trained=stats.model_trained,
            identities=stats.identities,
            model=json.dumps(stats.model, sort_keys=True),
        )
    )


def _decisions(uow: UnitOfWork, role: PartyRole) -> tuple[list[tuple[int, int]], frozenset[int]]:
    """Analysts' decisions in order; a later merge of a split identity brings it back."""
    merges: list[tuple[int, int]] = []
    splits: set[int] = set()
    rows = uow.connection.execute(
        select(harm_decisions)
        .where(harm_decisions.c.role == role.value)
        .order_by(harm_decisions.c.id)
    )
    for row in rows:
        if row.kind == DecisionKind.MERGE.value and row.identity_b is not None:
            merges.append((row.identity_a, row.identity_b))
        elif row.kind == DecisionKind.SPLIT.value:
            splits.add(row.identity_a)
            merges = [m for m in merges if row.identity_a not in m]
    return merges, frozenset(splits)


def _registry_matches(uow: UnitOfWork) -> tuple[dict[str, str], dict[tuple[str, str, date], str]]:
    """PNC ids and canonical name + date of birth of persons known to Vigil's registry.

    Read through the registry's service (never its tables); absent registry, no links.
    """
    try:
        from vigil.people import service as people_service
        from vigil.security.model import SYSTEM
    except ImportError:  # the registry part is optional for this one
        return {}, {}
    by_pnc: dict[str, str] = {}
    by_name: dict[tuple[str, str, date], str] = {}
    for person in people_service.list_persons(uow, SYSTEM):
        if person.pnc_id:
            by_pnc[person.pnc_id.strip().upper()] = str(person.id)
        given = canonical_given(normalise_name(person.first_name).split(" ")[0])
        family = normalise_name(person.last_name).split(" ")[-1]
        by_name[(given, family, person.date_of_birth)] = str(person.id)
    return by_pnc, by_name


def _registry_links(
    uow: UnitOfWork, identities: pl.DataFrame, resolved: pl.DataFrame
) -> pl.DataFrame:
    """person_key → registry person id, for perpetrators the registry already knows."""
    by_pnc, by_name = _registry_matches(uow)
    empty = pl.DataFrame(schema={"person_key": pl.Utf8, "registry_person_id": pl.Utf8})
    if not by_pnc and not by_name:
        return empty
    parts = name_parts(identities, "name").join(resolved.select("id", "person_key"), on="id")
    found: dict[str, str] = {}
    for key, sid, given, family, dob in parts.select(
        "person_key", "source_id", "given", "family", "dob"
    ).iter_rows():
        match = by_pnc.get(sid or "") or by_name.get((canonical_given(given), family, dob))
        if match and key not in found:
            found[key] = match
    if not found:
        return empty
    return pl.DataFrame({"person_key": list(found), "registry_person_id": list(found.values())})


def resolution_method(role: PartyRole) -> Literal["splink", "rules"]:
    """Suspects are linked by the Splink model; victims by the deterministic rules.

    Who is ranked, and why, rests on the suspects' links, so they get the trained model and its
    explanations. Victims only count (distinct victims, serial flag): the rules do that in a
    second or two on a national load, where the model would double the resolution time.
    """
    return "splink" if role is PartyRole.SUSPECT else "rules"


def resolve_and_store(
    uow: UnitOfWork,
    cipher: FieldCipher,
    role: PartyRole,
    stored: pl.DataFrame,
    new: pl.DataFrame,
    stats: ResolutionStats,
    context: pl.DataFrame,
    trigger: str,
) -> pl.DataFrame:
    """Resolve stored + new identities together; insert the new, update what changed.

    An import trains the linkage model afresh (or takes the bundled one for a small load); an
    analyst's decision re-applies the model last stored, so a merge or split changes nothing else.
    Returns ``id, person_key`` of every identity of the side.
    """
    merges, splits = _decisions(uow, role)
    base = ["id", "exact_key", "source_id", "name", "dob"]
    everything = pl.concat([stored.select(base), new.select(base)], how="vertical_relaxed")
    latest = latest_model_json(uow, role) if trigger != "import" else None
    resolved = resolve_frame(
        name_parts(everything, "name")
        .select("id", "source_id", "given", "family", "dob", "family_parts")
        .join(context, on="id", how="left"),
        merges=merges,
        splits=splits,
        stats=stats,
        prefix="HX" if role is PartyRole.SUSPECT else "VX",
        method=resolution_method(role),
        model=latest[1] if latest else None,
    )
    _store_model(uow, role, stats, trigger)
    registry = (
        _registry_links(uow, everything, resolved)
        if role is PartyRole.SUSPECT
        else pl.DataFrame(schema={"person_key": pl.Utf8, "registry_person_id": pl.Utf8})
    )
    resolved = resolved.join(registry, on="person_key", how="left")
    if new.height:
        _insert_new(uow, cipher, role, new, resolved)
    if stored.height:
        _update_changed(uow, stored, resolved)
    if registry.height and stored.height:
        _update_registry_links(uow, stored, resolved)
    return resolved.select("id", "person_key")


def _insert_new(
    uow: UnitOfWork, cipher: FieldCipher, role: PartyRole, new: pl.DataFrame, resolved: pl.DataFrame
) -> None:
    """Store new identities with their link; a victim's name and date of birth only encrypted."""
    fresh = new.select("id", "exact_key", "source_id", "name", "dob").join(resolved, on="id")
    if role is PartyRole.VICTIM:
        details = [
            cipher.encrypt(f"{dob.isoformat() if dob else ''}\x1f{name}", VICTIM_DETAILS_FIELD)
            for name, dob in fresh.select("name", "dob").iter_rows()
        ]
        fresh = fresh.with_columns(
            display_name=pl.lit(None, dtype=pl.Utf8),
            dob=pl.lit(None, dtype=pl.Date),
            details_enc=pl.Series(details, dtype=pl.Utf8),
        )
    else:
        fresh = fresh.with_columns(
            display_name=pl.col("name"), details_enc=pl.lit(None, dtype=pl.Utf8)
        )
    bulk.bulk_insert(
        uow,
        harm_identities,
        fresh.select(
            "id",
            pl.lit(role.value).alias("role"),
            "exact_key",
            "source_id",
            "display_name",
            "dob",
            "details_enc",
            "person_key",
            pl.col("reason").alias("link_reason"),
            pl.col("score").alias("link_score"),
            "linked_to",
            "registry_person_id",
            pl.col("evidence").alias("link_evidence"),
        ),
    )


def _update_changed(uow: UnitOfWork, stored: pl.DataFrame, resolved: pl.DataFrame) -> None:
    """Rewrite the link of stored identities whose person, reason, score or evidence moved."""
    changed = stored.join(resolved, on="id").filter(
        (pl.col("person_key") != pl.col("person_key_right"))
        | (pl.col("link_reason") != pl.col("reason"))
        | (pl.col("link_score") != pl.col("score"))
        | pl.col("linked_to").ne_missing(pl.col("linked_to_right"))
        | pl.col("link_evidence").ne_missing(pl.col("evidence"))
    )
    if not changed.height:
        return
    uow.connection.execute(
        update(harm_identities).where(harm_identities.c.id == bindparam("b_id")),
        [
            {
                "b_id": i,
                "person_key": k,
                "link_reason": r,
                "link_score": sc,
                "linked_to": lt,
                "link_evidence": ev,
            }
            for i, k, r, sc, lt, ev in changed.select(
                "id", "person_key_right", "reason", "score", "linked_to_right", "evidence"
            ).iter_rows()
        ],
    )


def _update_registry_links(uow: UnitOfWork, stored: pl.DataFrame, resolved: pl.DataFrame) -> None:
    # By primary key: the person_key index may be set aside during a big load.
    linked = (
        stored.select("id")
        .join(resolved, on="id")
        .filter(pl.col("registry_person_id").is_not_null())
    )
    if not linked.height:
        return  # an empty executemany is an UPDATE with no values: SQLAlchemy refuses it
    uow.connection.execute(
        update(harm_identities).where(harm_identities.c.id == bindparam("b_id")),
        [
            {"b_id": i, "registry_person_id": person}
            for i, person in linked.select("id", "registry_person_id").iter_rows()
        ],
    )
