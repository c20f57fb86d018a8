"""Violation evidence packs: build, sign, store and verify the evidence of one alert."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import Table, insert, select, update

from vigil.alerts import alert_reads
from vigil.alerts.alert_reads import AlertDetail
from vigil.db.uow import UnitOfWork
from vigil.engine import service as engine_service
from vigil.errors import NotFound, ValidationError
from vigil.evidence.crime_access import stated_reason
from vigil.evidence.pack import CONTEXT, PackInputs, SigningKey, Verification, evidence_json
from vigil.evidence.pack import FORMAT as PACK_FORMAT
from vigil.evidence.pack import sign as sign_pack
from vigil.evidence.tables import (
    evidence_packs,
)
from vigil.evidence.wearer import wearer_of
from vigil.security import audit, permissions
from vigil.security.model import Principal
from vigil.settings import Settings
from vigil.tracking import trail_reads, trail_retention
from vigil.tracking.trail_reads import ReceivedMessage

# ---------------------------------------------------------------------------------------------
# Violation evidence packs


def signing_key(settings: Settings) -> SigningKey:
    """The system's pack-signing key: from settings, or derived from the secret key outside
    production (so a demo's packs verify across restarts)."""
    if settings.evidence_signing_key.strip():
        return SigningKey.from_setting(settings.evidence_signing_key.strip())
    if settings.is_relaxed:
        return SigningKey.derived(
            settings.secret_key or "vigil-development-only",
            f"Vigil {settings.environment.value} system key",
        )
    raise ValidationError(
        "evidence_signing_key", "is not configured: set VIGIL_EVIDENCE_SIGNING_KEY to sign packs"
    )


def trusted_keys(settings: Settings) -> dict[str, str]:
    key = signing_key(settings)
    return {key.key_id: key.signer}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _find_violation(
    uow: UnitOfWork, principal: Principal, person_id: str, violation_id: str
) -> tuple[dict[str, Any], list[AlertDetail]]:
    """The episode and its alerts: the engine's own record (``get_violation``), or for an
    episode the engine did not store (e.g. raised before it kept violations) the alert raised
    for it, which carries the engine's detail and the fix ids it cited."""
    from vigil.alerts.alert_reads import AlertFilter

    listed = alert_reads.list_alerts(uow, principal, AlertFilter(person_id=person_id, limit=1000))
    mine = [a for a in listed if a["episode_id"] == violation_id]
    alerts_full = [alert_reads.get_alert(uow, principal, int(a["id"])) for a in mine]
    stored = engine_service.get_violation(uow, violation_id)
    record: dict[str, Any] | None = None
    if stored is not None:
        # The engine names its record's id ``episode_id``; the pack names every episode ``id``.
        record = {"id": stored["episode_id"], **stored, "source": "engine"}
    elif alerts_full:
        record = _record_from_alert(violation_id, alerts_full[0])
    if record is None or str(record.get("person_id")) != person_id:
        raise NotFound(f"violation {violation_id}")
    return {k: _iso(v) if isinstance(v, datetime) else v for k, v in record.items()}, alerts_full


def _record_from_alert(violation_id: str, alert: AlertDetail) -> dict[str, Any]:
    return {
        "id": violation_id,
        "person_id": alert["person_id"],
        "condition_id": alert["condition_id"],
        "kind": alert["kind"],
        "start": alert["started_at"],
        "end": alert["ended_at"],
        "raised_at": alert["raised_at"],
        "retrospective": alert["retrospective"],
        "lat": alert["lat"],
        "lon": alert["lon"],
        # The alert keeps what the engine said of the episode in its history.
        "detail": alert.get("detail") or _engine_detail_in_history(alert),
        "source": "alert",
    }


# What the alerts part adds to a history entry's detail; the rest is the engine's.
_ALERT_KEYS = frozenset({"phase", "severity", "retrospective", "level", "tiers"})


def _engine_detail_in_history(alert: AlertDetail) -> dict[str, Any]:
    """The engine's detail as the alert's history kept it from the episode's events (the
    raise record alone holds only the alert's own severity)."""
    detail: dict[str, Any] = {}
    for entry in alert.get("history", []):
        if entry.get("action") == "raised" or str(entry.get("action")).startswith("episode_"):
            found = entry.get("detail")
            if isinstance(found, dict):
                detail.update({k: v for k, v in found.items() if k not in _ALERT_KEYS})
    return detail


def _condition_as_imposed(
    uow: UnitOfWork, person_id: str, violation: dict[str, Any], at: datetime, timezone: str
) -> dict[str, Any] | None:
    condition_id = violation.get("condition_id")
    if condition_id is None:
        return None
    from vigil.orders.plan_for_engine import monitoring_plan_json

    plan = monitoring_plan_json(uow, at, timezone=timezone)
    for person in plan["persons"]:
        if person["id"] == person_id:
            for condition in person["conditions"]:
                if condition["id"] == str(condition_id):
                    return {**condition, "in_force_at": at.isoformat()}
    return None


def _fix_json(fix: Any, received: ReceivedMessage | None) -> dict[str, Any]:
    return {
        "id": fix.id,
        "device_id": fix.device_id,
        "fix_time": fix.fix_time.isoformat(),
        "receive_time": fix.receive_time.isoformat(),
        "lat": fix.lat,
        "lon": fix.lon,
        "accuracy_m": fix.accuracy_m,
        "valid": fix.valid,
        "approximate": fix.approximate,
        "implausible": fix.implausible,
        "invalid_position": fix.invalid_position,
        "protocol": fix.protocol,
        "battery_pct": fix.battery_pct,
        "alarms": list(fix.alarms),
        "raw": received.raw if received else "",
        "attributes": received.attributes_json if received else {},
    }


@dataclass(frozen=True)
class PackResult:
    id: int
    document: bytes
    sha256: str


def create_pack(
    uow: UnitOfWork,
    principal: Principal,
    settings: Settings,
    *,
    person_id: str,
    violation_id: str,
    reason: str | None,
) -> PackResult:
    """Assemble, sign and store the evidence pack of one violation; put its fixes on legal hold."""
    from vigil import __version__
    from vigil.tracking import queries

    principal.require(permissions.EVIDENCE_PACKS)
    stated = stated_reason(reason)
    if not queries.registry_scope(uow, principal, person_id):
        raise NotFound(f"person {person_id}")
    key = signing_key(settings)
    violation, alert_records = _find_violation(uow, principal, person_id, violation_id)
    start, end = _window_of(violation)
    condition = _condition_as_imposed(uow, person_id, violation, start, settings.timezone)
    all_fixes = _pack_fixes(uow, person_id, violation, start, end)
    now = uow.clock.now()
    pack_id = _reserve_pack(uow, principal, (person_id, violation_id), stated, key, now)
    reference = f"evidence-pack:{pack_id}"
    evidence = evidence_json(
        PackInputs(
            pack_reference=reference,
            created_at=now,
            created_by=principal.actor,
            reason=stated,
            violation=violation,
            condition=condition,
            fixes=_fixes_json(uow, all_fixes),
            alerts=alert_records,
            software={"vigil": __version__, "pack_format": PACK_FORMAT},
            wearer=asdict(wearer_of(uow, person_id)),
        )
    )
    document, digest = _sign_into(uow, pack_id, evidence, key, now)
    if all_fixes:
        trail_retention.place_legal_hold(uow, [f.id for f in all_fixes], reference, principal.actor)
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="evidence_pack.create",
        subject_type="person",
        subject_id=person_id,
        detail={
            "reason": stated,
            "pack_id": pack_id,
            "violation_id": violation_id,
            "sha256": digest,
            "fixes": len(all_fixes),
            "key_id": key.key_id,
        },
    )
    return PackResult(pack_id, document, digest)


def _window_of(violation: dict[str, Any]) -> tuple[datetime, datetime | None]:
    """When the violation began, and ended if it has."""
    end = violation.get("end")
    return datetime.fromisoformat(str(violation["start"])), (
        datetime.fromisoformat(str(end)) if end else None
    )


def _fixes_json(uow: UnitOfWork, fixes: list[Any]) -> list[dict[str, Any]]:
    """The pack's fixes as evidence, each with the raw message it came in."""
    raws = trail_reads.raw_messages(uow.connection, [f.id for f in fixes])
    return [_fix_json(f, raws.get(f.id)) for f in fixes]


def _sign_into(
    uow: UnitOfWork, pack_id: int, evidence: dict[str, Any], key: SigningKey, now: datetime
) -> tuple[bytes, str]:
    """Sign the evidence and store the signed document and its digest in the pack's row."""
    document = sign_pack(evidence, key, now)
    digest: str = json.loads(document)["sha256"]
    uow.connection.execute(
        update(evidence_packs)
        .where(evidence_packs.c.id == pack_id)
        .values(sha256=digest, document=document.decode("utf-8"))
    )
    return document, digest


def _pack_fixes(
    uow: UnitOfWork,
    person_id: str,
    violation: dict[str, Any],
    start: datetime,
    end: datetime | None,
) -> list[Any]:
    """The fixes around the violation, and every fix the engine cited for it even if it lies
    outside that window, in time order."""
    found = trail_reads.person_fixes(
        uow.connection, person_id, start - CONTEXT, (end or start) + CONTEXT
    )
    cited = {
        int(i)
        for i in [
            *violation.get("fix_ids", []),
            *(violation.get("detail") or {}).get("fix_ids", []),
        ]
    }
    extra = trail_reads.fixes_by_id(uow.connection, cited - {f.id for f in found})
    return sorted([*found, *extra.values()], key=lambda f: (f.fix_time, f.id))


def _reserve_pack(
    uow: UnitOfWork,
    principal: Principal,
    of: tuple[str, str],
    stated: str,
    key: SigningKey,
    now: datetime,
) -> int:
    """The pack's row (for a person's violation), so its reference can go into the document it
    will hold once signed; created at the moment the document states."""
    person_id, violation_id = of
    pack_id = uow.connection.execute(
        insert(evidence_packs)
        .values(
            violation_id=violation_id,
            person_id=person_id,
            created_at=now,
            created_by=principal.actor,
            reason=stated,
            sha256="",
            key_id=key.key_id,
            signer=key.signer,
            document="",
        )
        .returning(evidence_packs.c.id)
    ).scalar_one()
    return int(pack_id)


def _read_stored(
    uow: UnitOfWork,
    principal: Principal,
    table: Table,
    row_id: int,
    reason: str | None,
    *,
    noun: str,
    action: str,
    id_key: str,
) -> Any:
    """One stored document row of a wearer the principal may see, its reading audited (the
    caller commits); out of scope answers as missing so the document's existence is not leaked."""
    from vigil.tracking import queries

    stated = stated_reason(reason)
    row = uow.connection.execute(select(table).where(table.c.id == row_id)).first()
    if row is None or not queries.registry_scope(uow, principal, row.person_id):
        raise NotFound(f"{noun} {row_id}")
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=principal.actor,
        action=action,
        subject_type="person",
        subject_id=row.person_id,
        detail={"reason": stated, id_key: row_id},
    )
    return row


class PackRecord(TypedDict):
    """A stored pack as a wearer's evidence page and the API list it."""

    id: int
    violation_id: str
    created_at: str
    created_by: str
    sha256: str


class PackSummary(PackRecord):
    """A stored pack read in full: whose it is and the key that signed it."""

    person_id: str
    key_id: str
    signer: str


def get_pack(
    uow: UnitOfWork, principal: Principal, pack_id: int, reason: str | None
) -> tuple[PackSummary, bytes]:
    """A stored pack (row summary, signed document). Every read is audited."""
    principal.require(permissions.EVIDENCE_PACKS)
    row = _read_stored(
        uow,
        principal,
        evidence_packs,
        pack_id,
        reason,
        noun="evidence pack",
        action="evidence_pack.view",
        id_key="pack_id",
    )
    summary: PackSummary = {
        "id": row.id,
        "violation_id": row.violation_id,
        "person_id": row.person_id,
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
        "sha256": row.sha256,
        "key_id": row.key_id,
        "signer": row.signer,
    }
    return summary, row.document.encode("utf-8")


def list_packs(uow: UnitOfWork, principal: Principal, person_id: str) -> list[PackRecord]:
    from vigil.tracking import queries

    principal.require(permissions.EVIDENCE_PACKS)
    if not queries.registry_scope(uow, principal, person_id):
        raise NotFound(f"person {person_id}")
    rows = uow.connection.execute(
        select(
            evidence_packs.c.id,
            evidence_packs.c.violation_id,
            evidence_packs.c.created_at,
            evidence_packs.c.created_by,
            evidence_packs.c.sha256,
        )
        .where(evidence_packs.c.person_id == person_id)
        .order_by(evidence_packs.c.id.desc())
    )
    return [
        {
            "id": r.id,
            "violation_id": r.violation_id,
            "created_at": r.created_at.isoformat(),
            "created_by": r.created_by,
            "sha256": r.sha256,
        }
        for r in rows
    ]


def pack_pdf(document: bytes, verification: Verification) -> bytes:
    """The pack for people (vigil.evidence.pack_print); the signed JSON travels inside the PDF as
    an attachment so the two never part, and ``vigil evidence verify`` checks the PDF by it."""
    from weasyprint import HTML, Attachment  # type: ignore[import-untyped]

    from vigil.evidence.pack_print import pack_html
    from vigil.evidence.render import TEMPLATES

    reference = str(json.loads(document)["evidence"]["pack"]["reference"])
    attachment = Attachment(
        string=document.decode("utf-8"),
        name=f"{reference.replace(':', '-')}.json",
        description="Signed evidence pack (canonical JSON)",
    )
    html = pack_html(document, verification)
    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(attachments=[attachment])
    return pdf
