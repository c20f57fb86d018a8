"""Harm matrix use cases: import, resolution, analyst decisions, runs, changes, tasking reviews.

Each use case takes a ``UnitOfWork`` and commits once. Victims' names and dates of birth are
encrypted at rest; they are decrypted only in memory, for matching, and are never logged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import polars as pl
from sqlalchemy import (
    Index,
    String,
    Table,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    update,
)

from vigil.db.uow import UnitOfWork
from vigil.errors import ErrorCollector, NotFound, ValidationError
from vigil.harm import scoring
from vigil.harm.harm_index import HarmIndex, default_index, parse_table
from vigil.harm.importer import RowError, parse_incidents
from vigil.harm.linkage import LinkEvidence
from vigil.harm.model import (
    NICKNAMES,
    DecisionKind,
    Movement,
    PartyRole,
    ReviewStatus,
    ScoringConfig,
    Tactic,
    canonical_given,
    normalise_name,
)
from vigil.harm.resolution import ResolutionStats, name_parts, resolve_frame
from vigil.harm.tables import (
    harm_decisions,
    harm_identities,
    harm_imports,
    harm_incidents,
    harm_index_entries,
    harm_linkage_models,
    harm_reviews,
    harm_run_entries,
    harm_runs,
)
from vigil.logs import get_logger
from vigil.security import audit
from vigil.security.crypto import FieldCipher

log = get_logger(__name__)
Progress = Callable[[str], None]
STORE_LIMIT = 1000
MAX_ACTIONS = 4000
VICTIM_DETAILS_FIELD = "harm_identities.details_enc"


def _silent(_stage: str) -> None:
    return None


# --- bulk writes ---------------------------------------------------------------------------------


BULK_CHUNK = 50_000
# The importer's own connection gets a larger page cache while it loads (SQLite's default of about
# 2 MB makes every insert into a big unique index re-read pages); durability settings are untouched.
BULK_CACHE_KIB = 262_144
# Below this many new rows, or when the table already holds more rows than arrive, indexes are
# kept up row by row; above it, rebuilding a plain index once (a sort) is much cheaper.
REBUILD_MIN_ROWS = 20_000


def _bulk_insert(uow: UnitOfWork, table: Table, frame: pl.DataFrame) -> None:
    """Insert a frame fast: COPY on PostgreSQL, driver executemany in chunks on SQLite."""
    if frame.height == 0:
        return
    columns = frame.columns
    if uow.dialect == "postgresql":
        raw: Any = uow.connection.connection.driver_connection
        names = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in frame.iter_rows():
                copy.write_row(row)
        return
    # SQLite: the same text forms SQLAlchemy's own DateTime and Date types store.
    converted = frame.with_columns(
        [
            pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Datetime)
        ]
        + [
            pl.col(name).dt.strftime("%Y-%m-%d")
            for name, dtype in frame.schema.items()
            if dtype == pl.Date
        ]
    )
    placeholders = ", ".join("?" for _ in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({placeholders})"  # noqa: S608 - names are ours
    # One prepared statement, fed a chunk of plain tuples at a time: the rows never all exist as
    # Python objects at once (a million rows of tuples would be about a gigabyte).
    cursor = uow.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for offset in range(0, converted.height, BULK_CHUNK):
            cursor.executemany(sql, converted.slice(offset, BULK_CHUNK).rows())
    finally:
        cursor.close()


def _read_chunks(
    uow: UnitOfWork, sql: str, schema: dict[str, pl.DataType | type[pl.DataType]]
) -> pl.DataFrame:
    """A query's rows through the driver's cursor, a chunk of plain tuples at a time."""
    cursor = uow.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    parts = [pl.DataFrame(schema=schema)]
    try:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(BULK_CHUNK):
            parts.append(pl.DataFrame(chunk, schema=schema, orient="row"))
    finally:
        cursor.close()
    return pl.concat(parts, rechunk=True)


@contextmanager
def _bulk_load(uow: UnitOfWork) -> Iterator[None]:
    """A larger page cache for this connection while it loads (SQLite), restored afterwards."""
    if uow.dialect != "sqlite":
        yield
        return
    connection = uow.connection
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar() or 0)
    connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={before}")


@contextmanager
def _indexes_rebuilt(uow: UnitOfWork, table: Table, incoming: int) -> Iterator[None]:
    """On SQLite, drop a table's plain (non-unique) indexes around a big load and build them once.

    Inside the import's transaction: if anything fails, the rollback brings the indexes back.
    Unique indexes stay, so duplicates are still refused row by row.
    """
    dropped: list[Index] = []
    if uow.dialect == "sqlite" and incoming >= REBUILD_MIN_ROWS:
        existing = int(
            uow.connection.execute(select(func.count()).select_from(table)).scalar() or 0
        )
        if incoming >= existing:
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                if not index.unique:
                    uow.connection.exec_driver_sql(f'DROP INDEX "{index.name}"')
                    dropped.append(index)
    yield
    for index in dropped:
        index.create(uow.connection)


# --- identities and resolution -------------------------------------------------------------------


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

CONTEXT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "id": pl.Int64,
    "victims": pl.List(pl.Utf8),
    "forces": pl.List(pl.Utf8),
}


def _load_identities(
    uow: UnitOfWork, cipher: FieldCipher, roles: Sequence[PartyRole]
) -> dict[PartyRole, pl.DataFrame]:
    """Stored identities of the given sides; victims' details decrypted in memory only.

    One scan of the table in storage order (a ``WHERE role`` would make SQLite walk the unique
    index and sort), through the driver's cursor in chunks, shaped by polars: only the
    decryption itself is a Python loop (one call per stored victim, nothing else per row).
    """
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
    raw = _read_chunks(
        uow,
        str(query.compile(uow.engine, compile_kwargs={"literal_binds": True})),
        {
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
        },
    )
    out = {}
    for role in roles:
        part = raw.filter(pl.col("role") == role.value).sort("id")
        if role is PartyRole.VICTIM:
            decrypt = cipher.decrypt
            details = pl.Series(
                [
                    decrypt(value, VICTIM_DETAILS_FIELD) if value is not None else "\x1f"
                    for value in part["details_enc"].to_list()
                ],
                dtype=pl.Utf8,
            ).str.splitn("\x1f", 2)
            part = part.with_columns(
                display_name=details.struct.field("field_1").fill_null(""),
                dob_text=details.struct.field("field_0"),
            )
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


def _party_context(
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


def _stored_links(uow: UnitOfWork) -> pl.DataFrame:
    return _read_chunks(
        uow,
        "SELECT suspect_identity_id, victim_identity_id, force FROM harm_incidents",
        {"suspect_identity_id": pl.Int64, "victim_identity_id": pl.Int64, "force": pl.Utf8},
    )


def _latest_model(uow: UnitOfWork, role: PartyRole) -> tuple[int, dict[str, Any]] | None:
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


def _method(role: PartyRole) -> Literal["splink", "rules"]:
    """Suspects are linked by the Splink model; victims by the deterministic rules.

    Who is ranked, and why, rests on the suspects' links, so they get the trained model and its
    explanations. Victims only count (distinct victims, serial flag): the rules do that in a
    second or two on a national load, where the model would double the resolution time.
    """
    return "splink" if role is PartyRole.SUSPECT else "rules"


def _resolve_and_store(
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
    latest = _latest_model(uow, role) if trigger != "import" else None
    resolved = resolve_frame(
        name_parts(everything, "name")
        .select("id", "source_id", "given", "family", "dob", "family_parts")
        .join(context, on="id", how="left"),
        merges=merges,
        splits=splits,
        stats=stats,
        prefix="HX" if role is PartyRole.SUSPECT else "VX",
        method=_method(role),
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
        _bulk_insert(
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
    if stored.height:
        changed = stored.join(resolved, on="id").filter(
            (pl.col("person_key") != pl.col("person_key_right"))
            | (pl.col("link_reason") != pl.col("reason"))
            | (pl.col("link_score") != pl.col("score"))
            | pl.col("linked_to").ne_missing(pl.col("linked_to_right"))
            | pl.col("link_evidence").ne_missing(pl.col("evidence"))
        )
        if changed.height:
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
    if registry.height and stored.height:
        # By primary key: the person_key index may be set aside during a big load.
        linked = (
            stored.select("id")
            .join(resolved, on="id")
            .filter(pl.col("registry_person_id").is_not_null())
        )
        uow.connection.execute(
            update(harm_identities).where(harm_identities.c.id == bindparam("b_id")),
            [
                {"b_id": i, "registry_person_id": person}
                for i, person in linked.select("id", "registry_person_id").iter_rows()
            ],
        )
    return resolved.select("id", "person_key")


# --- import --------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    total: int = 0
    added: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    unknown_offence_groups: list[str] = field(default_factory=list)
    suspects: ResolutionStats = field(default_factory=ResolutionStats)
    victims: ResolutionStats = field(default_factory=ResolutionStats)
    import_id: int | None = None


def _next_identity_id(uow: UnitOfWork) -> int:
    found = uow.connection.execute(select(func.max(harm_identities.c.id))).scalar()
    return int(found or 0) + 1


def _new_identities(
    rows: pl.DataFrame,
    role: PartyRole,
    cipher: FieldCipher,
    stored: pl.DataFrame,
    next_id: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(incident_ref → identity id, identities not stored yet) for one side of the incidents."""
    prefix = role.value
    sid, name = f"{prefix}_id", f"{prefix}_name"
    parsed_dob = "s_dob" if role is PartyRole.SUSPECT else "v_dob"
    present = rows.filter((pl.col(sid) != "") | (pl.col(name) != ""))
    distinct = name_parts(present.select(sid, name, parsed_dob).unique(), name)
    texts = (
        distinct.select(
            pl.concat_str(
                [
                    pl.col(sid).str.strip_chars().str.to_uppercase(),
                    pl.col("given").replace(list(NICKNAMES), list(NICKNAMES.values())),
                    pl.col("family"),
                    pl.col(parsed_dob).dt.strftime("%Y-%m-%d").fill_null(""),
                ],
                separator="\x1f",
            )
        )
        .to_series()
        .to_list()
    )
    purpose = f"harm.{role.value}"
    distinct = distinct.with_columns(
        exact_key=pl.Series([cipher.blind_index(t, purpose) for t in texts], dtype=pl.Utf8)
    )
    known = stored.select("exact_key", "id")
    fresh = (
        distinct.join(known, on="exact_key", how="anti")
        .unique("exact_key", keep="first", maintain_order=True)
        .with_row_index("n")
        .select(
            id=pl.col("n").cast(pl.Int64) + next_id,
            exact_key="exact_key",
            source_id=pl.when(pl.col(sid).str.strip_chars() == "")
            .then(None)
            .otherwise(pl.col(sid).str.strip_chars().str.to_uppercase()),
            name=pl.col(name).str.strip_chars(),
            dob=pl.col(parsed_dob),
        )
    )
    ids = pl.concat([known, fresh.select("exact_key", "id")])
    mapping = distinct.join(ids, on="exact_key").select(sid, name, parsed_dob, "id")
    joined = rows.join(mapping, on=[sid, name, parsed_dob], how="left", nulls_equal=True)
    return joined.select("incident_ref", pl.col("id").alias(f"{prefix}_identity_id")), fresh


def _store_rows(
    uow: UnitOfWork,
    cipher: FieldCipher,
    rows: pl.DataFrame,
    report: ImportReport,
    filename: str,
    actor: str,
    progress: Progress,
) -> None:
    """Resolve and write the new rows' identities, then the incidents (in reference order)."""
    progress("reading stored identities")
    next_id = _next_identity_id(uow)
    stored = _load_identities(uow, cipher, (PartyRole.SUSPECT, PartyRole.VICTIM))
    suspects, victims = stored[PartyRole.SUSPECT], stored[PartyRole.VICTIM]
    s_map, s_new = _new_identities(rows, PartyRole.SUSPECT, cipher, suspects, next_id)
    v_map, v_new = _new_identities(rows, PartyRole.VICTIM, cipher, victims, next_id + s_new.height)
    # Victims first: a suspect's records are compared on the victims they share.
    links = pl.concat(
        [
            _stored_links(uow),
            rows.join(s_map, on="incident_ref", how="left")
            .join(v_map, on="incident_ref", how="left")
            .select("suspect_identity_id", "victim_identity_id", "force"),
        ],
        how="vertical_relaxed",
    )
    with _indexes_rebuilt(uow, harm_identities, s_new.height + v_new.height):
        progress("resolving victims")
        victim_keys = _resolve_and_store(
            uow,
            cipher,
            PartyRole.VICTIM,
            victims,
            v_new,
            report.victims,
            _party_context(links, PartyRole.VICTIM),
            "import",
        )
        progress("resolving suspects")
        _resolve_and_store(
            uow,
            cipher,
            PartyRole.SUSPECT,
            suspects,
            s_new,
            report.suspects,
            _party_context(links, PartyRole.SUSPECT, victim_keys),
            "import",
        )
    progress("storing incidents")
    report.import_id = _record_import(uow, filename, actor, report, added=rows.height)
    frame = (
        rows.join(s_map, on="incident_ref", how="left")
        .join(v_map, on="incident_ref", how="left")
        .select(
            "incident_ref",
            "row_hash",
            pl.lit(report.import_id).alias("import_id"),
            pl.col("occurred").alias("occurred_at"),
            "force",
            "offence",
            "offence_group",
            "domestic_abuse",
            "stalking",
            "sexual",
            "injury",
            "weapon",
            "suspect_identity_id",
            "victim_identity_id",
            "extra",
        )
    )
    # Rows in the order of the unique reference index: each insert lands next to the last.
    with _indexes_rebuilt(uow, harm_incidents, frame.height):
        _bulk_insert(uow, harm_incidents, frame.sort("incident_ref"))
    report.added = frame.height


def import_incidents(
    uow: UnitOfWork,
    cipher: FieldCipher,
    content: bytes,
    *,
    filename: str,
    actor: str,
    progress: Progress = _silent,
) -> ImportReport:
    """Import incidents: good rows stored, bad rows reported; the same file twice is a no-op."""
    now = uow.clock.now()
    progress("checking rows")
    parsed = parse_incidents(content, now)
    report = ImportReport(total=parsed.total, errors=list(parsed.errors))
    rows = parsed.rows
    progress("comparing with stored incidents")
    stored = _read_chunks(
        uow,
        "SELECT incident_ref, row_hash FROM harm_incidents",
        {"incident_ref": pl.Utf8, "stored_hash": pl.Utf8},
    )
    if stored.height:
        rows = rows.join(stored, on="incident_ref", how="left")
        same = rows.filter(pl.col("stored_hash") == pl.col("row_hash"))
        clash = rows.filter(
            pl.col("stored_hash").is_not_null() & (pl.col("stored_hash") != pl.col("row_hash"))
        )
        report.unchanged = same.height
        report.errors += [
            RowError(
                int(r),
                "incident_ref",
                "was imported before with different details; the "
                "stored incident is kept (correct it at source or give a new reference)",
            )
            for r in clash["row"].to_list()
        ]
        rows = rows.filter(pl.col("stored_hash").is_null()).drop("stored_hash")
    report.errors.sort(key=lambda e: e.row)
    report.rejected = len({e.row for e in report.errors})
    index = load_harm_index(uow)
    report.unknown_offence_groups = sorted(
        {
            group
            for offence, group in rows.select("offence", "offence_group").unique().iter_rows()
            if index.days(offence, group) is None
        }
    )
    if rows.height == 0:
        report.import_id = _record_import(uow, filename, actor, report)
        uow.commit()
        return report
    with _bulk_load(uow):
        _store_rows(uow, cipher, rows, report, filename, actor, progress)
        audit.record(
            uow.connection,
            at=now,
            actor=actor,
            action="harm.import",
            subject_type="harm_import",
            subject_id=report.import_id,
            detail={
                "filename": filename,
                "added": report.added,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
            },
        )
        uow.commit()
    log.info(
        "harm.import",
        added=report.added,
        unchanged=report.unchanged,
        rejected=report.rejected,
        suspects=report.suspects.persons,
    )
    return report


def _record_import(
    uow: UnitOfWork, filename: str, actor: str, report: ImportReport, added: int = 0
) -> int:
    result = uow.connection.execute(
        insert(harm_imports).values(
            filename=filename[:200],
            imported_at=uow.clock.now(),
            actor=actor,
            rows_total=report.total,
            rows_added=added,
            rows_unchanged=report.unchanged,
            rows_rejected=report.rejected,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


# --- analysts' decisions -------------------------------------------------------------------------


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
    loaded = _load_identities(uow, cipher, (PartyRole.SUSPECT, PartyRole.VICTIM))
    victim_keys = loaded[PartyRole.VICTIM].select("id", "person_key")
    _resolve_and_store(
        uow,
        cipher,
        role,
        loaded[role],
        pl.DataFrame(schema=IDENTITY_SCHEMA),
        ResolutionStats(),
        _party_context(_stored_links(uow), role, victim_keys),
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
    uow.commit()
    return key


def merge(
    uow: UnitOfWork,
    cipher: FieldCipher,
    *,
    role: PartyRole,
    identity_a: int,
    identity_b: int,
    reason: str,
    actor: str,
) -> str:
    """Join two records into one person by hand; returns the person's key."""
    return _decide(uow, cipher, role, DecisionKind.MERGE, identity_a, identity_b, reason, actor)


def split(
    uow: UnitOfWork,
    cipher: FieldCipher,
    *,
    role: PartyRole,
    identity_id: int,
    reason: str,
    actor: str,
) -> str:
    """Take a record out of its person by hand; it stands alone from then on."""
    return _decide(uow, cipher, role, DecisionKind.SPLIT, identity_id, None, reason, actor)


# --- harm index ----------------------------------------------------------------------------------


def load_harm_index(uow: UnitOfWork) -> HarmIndex:
    rows = uow.connection.execute(select(harm_index_entries)).all()
    base = default_index()
    if not rows:
        return base
    return base.with_overrides([(r.kind, r.key, r.days) for r in rows], source=rows[0].source)


def replace_harm_table(uow: UnitOfWork, content: bytes, *, filename: str, actor: str) -> int:
    """Load a per-offence table (CSV or XLSX) over the default; all rows or none."""
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
    uow.commit()
    return len(seen)


# --- scoring from stored data --------------------------------------------------------------------


def _sqlite_incidents(uow: UnitOfWork) -> pl.DataFrame:
    """Incidents and identities read separately and joined in memory.

    Joining in SQLite costs two random primary-key lookups per incident into the wide identities
    table; reading ``id, person_key`` comes from the narrow (role, person_key) index instead, and
    times come back as text for polars to parse (far faster than a Python datetime per row).
    """
    identities = _read_chunks(
        uow,
        "SELECT id, person_key FROM harm_identities",
        {"id": pl.Int64, "person_key": pl.Utf8},
    )
    incidents = _read_chunks(
        uow,
        "SELECT suspect_identity_id, victim_identity_id, force, occurred_at, offence,"
        " offence_group, domestic_abuse FROM harm_incidents",
        {
            "suspect_identity_id": pl.Int64,
            "victim_identity_id": pl.Int64,
            "force": pl.Utf8,
            "occurred_at": pl.Utf8,
            "offence": pl.Utf8,
            "offence_group": pl.Utf8,
            "domestic_abuse": pl.Int64,
        },
    )
    keys = identities.rename({"person_key": "person_id"})
    return (
        incidents.join(
            keys, left_on="suspect_identity_id", right_on="id", how="inner", maintain_order="left"
        )
        .join(
            keys.rename({"person_id": "victim_key"}),
            left_on="victim_identity_id",
            right_on="id",
            how="left",
            maintain_order="left",
        )
        .select(
            "person_id",
            "force",
            pl.col("occurred_at")
            .str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f")
            .dt.replace_time_zone("UTC"),
            "offence",
            "offence_group",
            "victim_key",
            pl.col("domestic_abuse").cast(pl.Boolean),
        )
    )


def incidents_frame(uow: UnitOfWork, index: HarmIndex | None = None) -> pl.DataFrame:
    """Every stored incident with its resolved perpetrator and victim, ready for scoring."""
    index = index or load_harm_index(uow)
    if uow.dialect == "sqlite":
        frame = _sqlite_incidents(uow)
    else:
        suspect = harm_identities.alias("s")
        victim = harm_identities.alias("v")
        query = (
            select(
                suspect.c.person_key.label("person_id"),
                harm_incidents.c.force,
                harm_incidents.c.occurred_at,
                harm_incidents.c.offence,
                harm_incidents.c.offence_group,
                victim.c.person_key.label("victim_key"),
                harm_incidents.c.domestic_abuse,
            )
            .select_from(harm_incidents)
            .join(suspect, suspect.c.id == harm_incidents.c.suspect_identity_id)
            .outerjoin(victim, victim.c.id == harm_incidents.c.victim_identity_id)
        )
        frame = pl.DataFrame(
            uow.connection.execute(query).all(),
            schema={
                "person_id": pl.Utf8,
                "force": pl.Utf8,
                "occurred_at": pl.Datetime("us", "UTC"),
                "offence": pl.Utf8,
                "offence_group": pl.Utf8,
                "victim_key": pl.Utf8,
                "domestic_abuse": pl.Boolean,
            },
            orient="row",
        )
    return frame.with_columns(harm=index.expression("offence", "offence_group")).select(
        list(scoring.INCIDENT_SCHEMA)
    )


@dataclass(frozen=True)
class RunSummary:
    id: int
    as_of: datetime
    computed_at: datetime
    actor: str
    persons_scored: int
    incidents_used: int
    harm_index_source: str
    config: dict[str, Any]


def compute_run(
    uow: UnitOfWork,
    *,
    as_of: datetime,
    actor: str,
    config: ScoringConfig | None = None,
    store_limit: int = STORE_LIMIT,
    progress: Progress = _silent,
) -> int:
    """Score the stored incidents as of a date and keep the top of the list (and each force's)."""
    config = config or ScoringConfig()
    config.check()
    if store_limit < 1:
        raise ValidationError("store_limit", "must be at least 1")
    index = load_harm_index(uow)
    progress("reading incidents")
    frame = incidents_frame(uow, index)
    progress("scoring")
    ranked = scoring.score_frame(frame, as_of, config)
    kept = ranked.filter((pl.col("rank") <= store_limit) | (pl.col("force_rank") <= store_limit))
    progress("explaining")
    kept = kept.with_columns(
        explanation=pl.Series(scoring.explanations(frame, kept, as_of, config), dtype=pl.Utf8)
    )
    now = uow.clock.now()
    run_id = int(
        uow.connection.execute(
            insert(harm_runs).values(
                as_of=as_of,
                computed_at=now,
                actor=actor,
                config=json.dumps(config.as_dict()),
                harm_index_source=index.source[:200],
                persons_scored=ranked.height,
                incidents_used=frame.filter(pl.col("occurred_at") < as_of).height,
                linkage_model_id=model[0]
                if (model := _latest_model(uow, PartyRole.SUSPECT))
                else None,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )
    progress("storing the run")
    _bulk_insert(
        uow,
        harm_run_entries,
        kept.select(
            pl.lit(run_id).alias("run_id"),
            "person_id",
            "rank",
            "force",
            "force_rank",
            "score",
            "band",
            "recency_days",
            "frequency",
            "gravity",
            "victims",
            "serial",
            "escalating",
            "explanation",
        ),
    )
    audit.record(
        uow.connection,
        at=now,
        actor=actor,
        action="harm.run",
        subject_type="harm_run",
        subject_id=run_id,
        detail={"as_of": as_of.isoformat(), "scored": ranked.height},
    )
    uow.commit()
    return run_id


def _summary(row: Any) -> RunSummary:
    return RunSummary(
        row.id,
        row.as_of,
        row.computed_at,
        row.actor,
        row.persons_scored,
        row.incidents_used,
        row.harm_index_source,
        json.loads(row.config),
    )


def list_runs(uow: UnitOfWork, limit: int = 20) -> list[RunSummary]:
    rows = uow.connection.execute(select(harm_runs).order_by(harm_runs.c.id.desc()).limit(limit))
    return [_summary(r) for r in rows]


def get_run(uow: UnitOfWork, run_id: int | None = None) -> RunSummary:
    query = select(harm_runs)
    query = (
        query.where(harm_runs.c.id == run_id)
        if run_id
        else query.order_by(harm_runs.c.id.desc()).limit(1)
    )
    row = uow.connection.execute(query).first()
    if row is None:
        raise NotFound("harm run")
    return _summary(row)


@dataclass(frozen=True)
class MatrixRow:
    rank: int
    person_id: str
    force: str
    force_rank: int
    score: float
    band: str
    recency_days: int
    frequency: int
    gravity: float
    victims: int
    serial: bool
    escalating: bool
    explanation: str
    movement: Movement = Movement.SAME
    previous_rank: int | None = None


def _previous_run_id(uow: UnitOfWork, run_id: int) -> int | None:
    found = uow.connection.execute(
        select(func.max(harm_runs.c.id)).where(harm_runs.c.id < run_id)
    ).scalar()
    return int(found) if found else None


def matrix(
    uow: UnitOfWork,
    run_id: int,
    *,
    force: str | None = None,
    band: str | None = None,
    serial_only: bool = False,
    escalating_only: bool = False,
    top: int = 100,
) -> list[MatrixRow]:
    """The top of a stored run (national or one force), with movement since the last run."""
    if not 1 <= top <= STORE_LIMIT:
        raise ValidationError("top", f"must be between 1 and {STORE_LIMIT}")
    e = harm_run_entries
    rank_col = e.c.force_rank if force else e.c.rank
    query = select(e).where(e.c.run_id == run_id)
    if force:
        query = query.where(e.c.force == force)
    if band:
        query = query.where(e.c.band == band)
    if serial_only:
        query = query.where(e.c.serial.is_(True))
    if escalating_only:
        query = query.where(e.c.escalating.is_(True))
    rows = uow.connection.execute(query.where(rank_col <= top).order_by(rank_col)).all()
    previous_id = _previous_run_id(uow, run_id)
    before: dict[str, int] = {}
    if previous_id is not None and rows:
        prev_rank = harm_run_entries.c.force_rank if force else harm_run_entries.c.rank
        before = {
            person: rank
            for person, rank in uow.connection.execute(
                select(e.c.person_id, prev_rank).where(
                    e.c.run_id == previous_id,
                    e.c.person_id.in_([r.person_id for r in rows]),
                    prev_rank <= top,
                )
            )
        }
    out = []
    for r in rows:
        rank = r.force_rank if force else r.rank
        was = before.get(r.person_id)
        if previous_id is None:
            movement = Movement.SAME
        elif was is None:
            movement = Movement.NEW
        else:
            movement = (
                Movement.RISEN if rank < was else (Movement.FALLEN if rank > was else Movement.SAME)
            )
        out.append(
            MatrixRow(
                rank,
                r.person_id,
                r.force,
                r.force_rank,
                r.score,
                r.band,
                r.recency_days,
                r.frequency,
                r.gravity,
                r.victims,
                r.serial,
                r.escalating,
                r.explanation,
                movement,
                was,
            )
        )
    return out


def dropped_out(
    uow: UnitOfWork, run_id: int, *, force: str | None = None, top: int = 100
) -> list[tuple[str, int]]:
    """(person, previous rank) of those in the previous run's top who are not in this one's."""
    previous_id = _previous_run_id(uow, run_id)
    if previous_id is None:
        return []
    e = harm_run_entries
    rank_col = e.c.force_rank if force else e.c.rank

    def top_of(rid: int) -> dict[str, int]:
        query = select(e.c.person_id, rank_col).where(e.c.run_id == rid, rank_col <= top)
        if force:
            query = query.where(e.c.force == force)
        return {person: rank for person, rank in uow.connection.execute(query)}

    now = top_of(run_id)
    return sorted(
        ((p, r) for p, r in top_of(previous_id).items() if p not in now), key=lambda item: item[1]
    )


@dataclass(frozen=True)
class PersonRecord:
    identity_id: int
    name: str
    dob: date | None
    source_id: str | None
    reason: str
    score: float
    linked_to: int | None
    incidents: int
    registry_person_id: str | None
    evidence: LinkEvidence | None = None


def person_records(uow: UnitOfWork, person_id: str, actor: str) -> list[PersonRecord]:
    """How a perpetrator was written down, with each link's reason and score (audited view)."""
    counts = (
        select(harm_incidents.c.suspect_identity_id, func.count().label("n"))
        .group_by(harm_incidents.c.suspect_identity_id)
        .subquery()
    )
    rows = uow.connection.execute(
        select(harm_identities, func.coalesce(counts.c.n, 0).label("n"))
        .outerjoin(counts, counts.c.suspect_identity_id == harm_identities.c.id)
        .where(
            harm_identities.c.role == PartyRole.SUSPECT.value,
            harm_identities.c.person_key == person_id,
        )
        .order_by(harm_identities.c.id)
    ).all()
    if not rows:
        raise NotFound(f"perpetrator {person_id}")
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=actor,
        action="harm.person.view",
        subject_type="harm_person",
        subject_id=person_id,
    )
    uow.commit()
    return [
        PersonRecord(
            r.id,
            r.display_name or "",
            r.dob,
            r.source_id,
            r.link_reason,
            r.link_score,
            r.linked_to,
            r.n,
            r.registry_person_id,
            LinkEvidence.from_json(r.link_evidence) if r.link_evidence else None,
        )
        for r in rows
    ]


def score_history(uow: UnitOfWork, person_id: str) -> list[tuple[int, datetime, int, float]]:
    """(run, as of, rank, score) for every stored run the person appears in, oldest first."""
    rows = uow.connection.execute(
        select(harm_runs.c.id, harm_runs.c.as_of, harm_run_entries.c.rank, harm_run_entries.c.score)
        .join(harm_run_entries, harm_run_entries.c.run_id == harm_runs.c.id)
        .where(harm_run_entries.c.person_id == person_id)
        .order_by(harm_runs.c.as_of, harm_runs.c.id)
    )
    return [(r.id, r.as_of, r.rank, r.score) for r in rows]


# --- tasking reviews (MATAC) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    id: int
    person_id: str
    force: str
    status: ReviewStatus
    tactic: Tactic
    actions: str
    review_date: date
    next_review_date: date | None
    selected_score: float | None
    selected_rank: int | None
    created_at: datetime
    actor: str
    latest_score: float | None = None
    latest_rank: int | None = None


def _parse_date(value: str | date | None, name: str, errors: ErrorCollector) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors.add(name, "must be a date (YYYY-MM-DD)")
        return None


def create_review(
    uow: UnitOfWork,
    *,
    person_id: str,
    tactic: str,
    actions: str,
    review_date: str | date,
    next_review_date: str | date | None,
    actor: str,
) -> int:
    """Select a perpetrator for tasking, with the tactic, actions and dates agreed."""
    errors = ErrorCollector()
    person_id = person_id.strip()
    errors.check(bool(person_id), "person_id", "is required")
    errors.check(
        tactic in {t.value for t in Tactic},
        "tactic",
        "must be one of: " + ", ".join(t.value for t in Tactic),
    )
    actions = actions.strip()
    errors.check(bool(actions), "actions", "say what will be done")
    errors.check(len(actions) <= MAX_ACTIONS, "actions", f"is longer than {MAX_ACTIONS}")
    when = _parse_date(review_date, "review_date", errors)
    errors.check(
        when is not None or any(e.field == "review_date" for e in errors.errors),
        "review_date",
        "is required",
    )
    following = _parse_date(next_review_date, "next_review_date", errors)
    if when and following and following <= when:
        errors.add("next_review_date", "must be after the review date")
    errors.raise_if_any()
    assert when is not None
    latest = uow.connection.execute(
        select(
            harm_run_entries.c.run_id,
            harm_run_entries.c.score,
            harm_run_entries.c.rank,
            harm_run_entries.c.force,
        )
        .where(harm_run_entries.c.person_id == person_id)
        .order_by(harm_run_entries.c.run_id.desc())
        .limit(1)
    ).first()
    if latest is None:
        known = uow.connection.execute(
            select(harm_identities.c.id).where(harm_identities.c.person_key == person_id).limit(1)
        ).first()
        if known is None:
            raise ValidationError("person_id", "is not a perpetrator in the matrix")
    review_id = int(
        uow.connection.execute(
            insert(harm_reviews).values(
                person_id=person_id,
                force=latest.force if latest else "",
                status=ReviewStatus.OPEN,
                tactic=tactic,
                actions=actions,
                review_date=when,
                next_review_date=following,
                selected_run_id=latest.run_id if latest else None,
                selected_score=latest.score if latest else None,
                selected_rank=latest.rank if latest else None,
                created_at=uow.clock.now(),
                actor=actor,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=actor,
        action="harm.review.create",
        subject_type="harm_review",
        subject_id=review_id,
        detail={"person_id": person_id, "tactic": tactic},
    )
    uow.commit()
    return review_id


def close_review(uow: UnitOfWork, review_id: int, actor: str) -> None:
    row = uow.connection.execute(select(harm_reviews).where(harm_reviews.c.id == review_id)).first()
    if row is None:
        raise NotFound(f"review {review_id}")
    if row.status == ReviewStatus.CLOSED.value:
        raise ValidationError("status", "the review is already closed")
    uow.connection.execute(
        update(harm_reviews)
        .where(harm_reviews.c.id == review_id)
        .values(status=ReviewStatus.CLOSED, closed_at=uow.clock.now())
    )
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=actor,
        action="harm.review.close",
        subject_type="harm_review",
        subject_id=review_id,
    )
    uow.commit()


def list_reviews(uow: UnitOfWork, person_id: str | None = None) -> list[Review]:
    """Reviews with the person's latest score, so the effect of the tactic can be followed."""
    query = select(harm_reviews).order_by(
        harm_reviews.c.review_date.desc(), harm_reviews.c.id.desc()
    )
    if person_id:
        query = query.where(harm_reviews.c.person_id == person_id)
    rows = uow.connection.execute(query).all()
    latest: dict[str, tuple[float, int]] = {}
    people = list({r.person_id for r in rows})
    if people:
        newest = select(func.max(harm_runs.c.id)).scalar_subquery()
        for person, score, rank in uow.connection.execute(
            select(
                harm_run_entries.c.person_id, harm_run_entries.c.score, harm_run_entries.c.rank
            ).where(harm_run_entries.c.run_id == newest, harm_run_entries.c.person_id.in_(people))
        ):
            latest[person] = (score, rank)
    return [
        Review(
            r.id,
            r.person_id,
            r.force,
            ReviewStatus(r.status),
            Tactic(r.tactic),
            r.actions,
            r.review_date,
            r.next_review_date,
            r.selected_score,
            r.selected_rank,
            r.created_at,
            r.actor,
            *(latest.get(r.person_id) or (None, None)),
        )
        for r in rows
    ]


def forces_in_runs(uow: UnitOfWork, run_id: int) -> list[str]:
    return list(
        uow.connection.execute(
            select(harm_run_entries.c.force)
            .where(harm_run_entries.c.run_id == run_id)
            .distinct()
            .order_by(harm_run_entries.c.force)
        ).scalars()
    )


def as_of_start(day: date) -> datetime:
    """A date given by a user is the start of that day, UTC: incidents before it are counted."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def resolved_frame(
    rows: pl.DataFrame,
    index: HarmIndex,
    stats: Sequence[ResolutionStats] = (),
    method: Literal["splink", "rules"] = "splink",
    keep: Sequence[str] = (),
) -> pl.DataFrame:
    """In memory (no storage): resolve a parsed file's suspects and victims, ready for scoring.

    Victims first, so suspects' records can be compared on the victims they share. ``keep`` names
    further columns of ``rows`` to carry through (say ``incident_ref``, to measure resolution).
    """
    keys: dict[PartyRole, pl.DataFrame] = {}
    for role in (PartyRole.VICTIM, PartyRole.SUSPECT):
        prefix = role.value
        parsed_dob = "s_dob" if role is PartyRole.SUSPECT else "v_dob"
        present = rows.filter((pl.col(f"{prefix}_id") != "") | (pl.col(f"{prefix}_name") != ""))
        if role is PartyRole.SUSPECT:
            present = present.join(
                keys[PartyRole.VICTIM].rename({"person_key": "victim_key"}),
                on=["victim_id", "victim_name", "v_dob"],
                how="left",
                nulls_equal=True,
            )
        else:
            present = present.with_columns(victim_key=pl.lit(None, dtype=pl.Utf8))
        distinct = (
            present.group_by(f"{prefix}_id", f"{prefix}_name", parsed_dob, maintain_order=True)
            .agg(
                victims=pl.col("victim_key").drop_nulls().unique().sort(),
                forces=pl.col("force").unique().sort(),
            )
            .with_row_index("id", offset=1)
            .with_columns(pl.col("id").cast(pl.Int64))
        )
        frame = name_parts(distinct, f"{prefix}_name").select(
            "id",
            source_id=pl.when(pl.col(f"{prefix}_id").str.strip_chars() == "")
            .then(None)
            .otherwise(pl.col(f"{prefix}_id").str.strip_chars().str.to_uppercase()),
            given="given",
            family="family",
            dob=parsed_dob,
            family_parts="family_parts",
            victims="victims",
            forces="forces",
        )
        position = 0 if role is PartyRole.SUSPECT else 1
        target = stats[position] if position < len(stats) else ResolutionStats()
        resolved = resolve_frame(
            frame,
            stats=target,
            prefix="HX" if role is PartyRole.SUSPECT else "VX",
            method=method if role is PartyRole.SUSPECT else _method(role),
        )
        keys[role] = (
            distinct.select("id", f"{prefix}_id", f"{prefix}_name", parsed_dob)
            .join(resolved.select("id", "person_key"), on="id")
            .drop("id")
        )
    return (
        rows.join(
            keys[PartyRole.SUSPECT],
            on=["suspect_id", "suspect_name", "s_dob"],
            how="left",
            nulls_equal=True,
        )
        .rename({"person_key": "person_id"})
        .join(
            keys[PartyRole.VICTIM],
            on=["victim_id", "victim_name", "v_dob"],
            how="left",
            nulls_equal=True,
        )
        .rename({"person_key": "victim_key"})
        .with_columns(
            occurred_at=pl.col("occurred"),
            harm=index.expression("offence", "offence_group"),
        )
        .select([*scoring.INCIDENT_SCHEMA, *keep])
    )
