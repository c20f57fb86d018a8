"""Importing an incident file: parse, resolve parties, store identities and incidents."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import (
    func,
    insert,
    select,
)

from vigil.db.uow import UnitOfWork
from vigil.harm import bulk
from vigil.harm.harm_table import load_harm_index
from vigil.harm.identity_links import (
    load_identities,
    party_context,
    resolve_and_store,
    stored_links,
)
from vigil.harm.importer import RowError, parse_incidents
from vigil.harm.model import (
    PartyRole,
)
from vigil.harm.names import name_parts, nickname_folded
from vigil.harm.progress import Progress, silent
from vigil.harm.resolution import ResolutionStats
from vigil.harm.tables import (
    harm_identities,
    harm_imports,
    harm_incidents,
)
from vigil.logs import get_logger
from vigil.security import audit, permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal

log = get_logger(__name__)


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
                    nickname_folded("given"),
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
    s_map, v_map = _store_identities(uow, cipher, rows, report, progress)
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
            *_INCIDENT_COLUMNS,
        )
    )
    # Rows in the order of the unique reference index: each insert lands next to the last.
    with bulk.indexes_rebuilt(uow, harm_incidents, frame.height):
        bulk.bulk_insert(uow, harm_incidents, frame.sort("incident_ref"))
    report.added = frame.height


_INCIDENT_COLUMNS = (
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


def _store_identities(
    uow: UnitOfWork,
    cipher: FieldCipher,
    rows: pl.DataFrame,
    report: ImportReport,
    progress: Progress,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Store the parties not seen before and resolve them with the stored ones; returns each
    incident's suspect and victim identity (incident_ref → id)."""
    progress("reading stored identities")
    next_id = _next_identity_id(uow)
    stored = load_identities(uow, cipher, (PartyRole.SUSPECT, PartyRole.VICTIM))
    suspects, victims = stored[PartyRole.SUSPECT], stored[PartyRole.VICTIM]
    s_map, s_new = _new_identities(rows, PartyRole.SUSPECT, cipher, suspects, next_id)
    v_map, v_new = _new_identities(rows, PartyRole.VICTIM, cipher, victims, next_id + s_new.height)
    links = pl.concat(
        [
            stored_links(uow),
            rows.join(s_map, on="incident_ref", how="left")
            .join(v_map, on="incident_ref", how="left")
            .select("suspect_identity_id", "victim_identity_id", "force"),
        ],
        how="vertical_relaxed",
    )
    # Victims first: a suspect's records are compared on the victims they share.
    with bulk.indexes_rebuilt(uow, harm_identities, s_new.height + v_new.height):
        progress("resolving victims")
        victim_context = party_context(links, PartyRole.VICTIM)
        victim_keys = resolve_and_store(
            uow, cipher, PartyRole.VICTIM, victims, v_new, report.victims, victim_context, "import"
        )
        progress("resolving suspects")
        suspect_context = party_context(links, PartyRole.SUSPECT, victim_keys)
        resolve_and_store(
            uow,
            cipher,
            PartyRole.SUSPECT,
            suspects,
            s_new,
            report.suspects,
            suspect_context,
            "import",
        )
    return s_map, v_map


def import_incidents(
    uow: UnitOfWork,
    cipher: FieldCipher,
    content: bytes,
    *,
    filename: str,
    principal: Principal,
    progress: Progress = silent,
) -> ImportReport:
    """Import incidents: good rows stored, bad rows reported; the same file twice is a no-op."""
    principal.require(permissions.HARM_MATRIX)
    actor = principal.actor
    now = uow.clock.now()
    progress("checking rows")
    parsed = parse_incidents(content, now)
    report = ImportReport(total=parsed.total, errors=list(parsed.errors))
    progress("comparing with stored incidents")
    rows = _not_stored_before(uow, parsed.rows, report)
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
        return report
    with bulk.bulk_load(uow):
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
    log.info(
        "harm.import",
        added=report.added,
        unchanged=report.unchanged,
        rejected=report.rejected,
        suspects=report.suspects.persons,
    )
    return report


def _not_stored_before(uow: UnitOfWork, rows: pl.DataFrame, report: ImportReport) -> pl.DataFrame:
    """Rows whose reference is new. The same row again is counted unchanged; a reference stored
    with different details is an error (the stored incident is kept)."""
    stored = bulk.read_chunks(
        uow,
        "SELECT incident_ref, row_hash FROM harm_incidents",
        {"incident_ref": pl.Utf8, "stored_hash": pl.Utf8},
    )
    if not stored.height:
        return rows
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
    return rows.filter(pl.col("stored_hash").is_null()).drop("stored_hash")


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
