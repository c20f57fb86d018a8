"""Violation evidence packs: canonical JSON, SHA-256 and an Ed25519 signature by the system's key.

A pack file is one canonical JSON object (keys sorted, no spaces, UTF-8, no NaN)::

    {"evidence": {...}, "format": "vigil-evidence-pack/1", "sha256": "<hex of canonical evidence>",
     "signature": {"algorithm": "Ed25519", "key_id": "...", "public_key": "<base64>",
                   "signed_at": "...", "signer": "...", "value": "<base64>"}}

The signature covers the canonical form of ``format``, ``sha256`` and every signature field but
``value``, so neither the evidence nor who signed it nor when can change unnoticed. Verification
also requires the file to *be* that canonical form, byte for byte: any changed byte anywhere —
even whitespace — fails. ``key_id`` is the first 16 hex digits of SHA-256 of the public key.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vigil.alerts.alert_reads import AlertDetail

FORMAT = "vigil-evidence-pack/1"
ALGORITHM = "Ed25519"
CONTEXT = timedelta(minutes=30)  # the "before" and "after" around a violation


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    signer: str
    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_raw)

    @classmethod
    def from_setting(cls, value: str) -> SigningKey:
        """``<signer>:<base64 of a 32-byte seed>``."""
        signer, _, encoded = value.rpartition(":")
        try:
            seed = base64.urlsafe_b64decode(encoded.encode() + b"=" * (-len(encoded) % 4))
        except ValueError as exc:
            raise ValueError("VIGIL_EVIDENCE_SIGNING_KEY: the key is not base64") from exc
        if len(seed) != 32 or not signer.strip():
            raise ValueError(
                "VIGIL_EVIDENCE_SIGNING_KEY must be '<signer>:<base64 of a 32-byte seed>'"
            )
        return cls(signer.strip(), Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def derived(cls, secret: str, signer: str) -> SigningKey:
        """A development key derived from the secret key (never used in production)."""
        seed = hashlib.sha256(b"vigil-evidence-signing:" + secret.encode()).digest()
        return cls(signer, Ed25519PrivateKey.from_private_bytes(seed))


def new_key_setting(signer: str) -> str:
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return f"{signer}:{base64.urlsafe_b64encode(seed).decode()}"


def _signed_part(envelope: Mapping[str, Any]) -> bytes:
    signature = {k: v for k, v in envelope["signature"].items() if k != "value"}
    return canonical(
        {"format": envelope["format"], "sha256": envelope["sha256"], "signature": signature}
    )


def sign(evidence: Mapping[str, Any], key: SigningKey, signed_at: datetime) -> bytes:
    """The pack file's bytes."""
    envelope: dict[str, Any] = {
        "format": FORMAT,
        "evidence": evidence,
        "sha256": hashlib.sha256(canonical(evidence)).hexdigest(),
        "signature": {
            "algorithm": ALGORITHM,
            "signer": key.signer,
            "key_id": key.key_id,
            "public_key": base64.b64encode(key.public_raw).decode(),
            "signed_at": signed_at.isoformat(),
        },
    }
    envelope["signature"]["value"] = base64.b64encode(
        key.private.sign(_signed_part(envelope))
    ).decode()
    return canonical(envelope)


@dataclass
class Verification:
    intact: bool
    signer: str | None = None
    key_id: str | None = None
    signed_at: str | None = None
    trusted: bool = False
    sha256: str | None = None
    public_key: str | None = None  # base64, as in the pack
    problems: list[str] = field(default_factory=list)

    def trust(self, trusted_keys: Mapping[str, str]) -> None:
        """Trust the signature when its key id is known here under the same signer's name."""
        known = trusted_keys.get(self.key_id or "")
        self.trusted = self.trusted or (self.intact and known == self.signer)

    def summary(self) -> str:
        if not self.intact:
            return "NOT INTACT: " + "; ".join(self.problems)
        when = f"at {self.signed_at}"
        if self.trusted:
            return (
                f"Intact: signed by this system's key ({self.signer}, key {self.key_id}) "
                f"{when}. SHA-256 {self.sha256}."
            )
        return (
            "Intact and correctly signed, but by a key this system does not know: "
            f"signed by {self.signer} (key {self.key_id}) {when}."
        )


def verify(data: bytes, trusted_keys: Mapping[str, str] | None = None) -> Verification:
    """Check a pack file. ``trusted_keys``: key id → signer name this system accepts."""
    result = Verification(intact=False)
    try:
        envelope = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        result.problems.append("the file is not a JSON document (it was altered or truncated)")
        return result
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        result.problems.append(f"the file is not a {FORMAT} document")
        return result
    try:
        recanonical = canonical(envelope)
    except ValueError:
        result.problems.append("the file holds values a pack never contains")
        return result
    if recanonical != data:
        result.problems.append("the file is not byte-for-byte the signed form (it was edited)")
    signature = envelope.get("signature")
    evidence = envelope.get("evidence")
    if (
        not isinstance(signature, dict)
        or not isinstance(evidence, dict)
        or not isinstance(envelope.get("sha256"), str)
        or set(envelope) != {"format", "evidence", "sha256", "signature"}
        or set(signature) != {"algorithm", "signer", "key_id", "public_key", "signed_at", "value"}
    ):
        result.problems.append("the signature, the hash or the evidence is missing or renamed")
        return result
    result.signer = str(signature.get("signer"))
    result.key_id = str(signature.get("key_id"))
    result.signed_at = str(signature.get("signed_at"))
    result.public_key = str(signature.get("public_key"))
    digest = hashlib.sha256(canonical(evidence)).hexdigest()
    result.sha256 = digest
    if digest != envelope.get("sha256"):
        result.problems.append("the evidence does not match its SHA-256 (the evidence changed)")
    try:
        public_raw = base64.b64decode(str(signature.get("public_key")), validate=True)
        public = Ed25519PublicKey.from_public_bytes(public_raw)
        public.verify(
            base64.b64decode(str(signature.get("value")), validate=True), _signed_part(envelope)
        )
    except (ValueError, InvalidSignature):
        result.problems.append("the Ed25519 signature does not verify")
        return result
    if signature.get("algorithm") != ALGORITHM:
        result.problems.append("the signature algorithm is not Ed25519")
    if key_id_of(public_raw) != result.key_id:
        result.problems.append("the key id does not belong to the public key")
    result.intact = not result.problems
    result.trust(trusted_keys or {})
    return result


# ---------------------------------------------------------------------------------------------
# Assembling the evidence (pure)


@dataclass(frozen=True)
class PackInputs:
    pack_reference: str
    created_at: datetime
    created_by: str
    reason: str
    violation: dict[str, Any]  # the episode: id, person, condition, kind, start, end, detail
    condition: dict[str, Any] | None  # as imposed when the violation started (plan shape)
    fixes: Sequence[dict[str, Any]]  # stored fixes with raw message, sorted by fix time
    alerts: Sequence[AlertDetail]  # each alert with its history and deliveries
    software: dict[str, str] = field(default_factory=dict)
    wearer: dict[str, str | None] = field(default_factory=dict)  # id, name and CRN


def period_of(fix_time: str, start: datetime, end: datetime | None) -> str:
    at = datetime.fromisoformat(fix_time)
    if at < start:
        return "before"
    if end is not None and at > end:
        return "after"
    return "during"


def device_health_json(fixes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the fixes say about the device: battery, alarms, gaps, accuracy, flags."""
    battery = [f["battery_pct"] for f in fixes if f.get("battery_pct") is not None]
    accuracy = [f["accuracy_m"] for f in fixes if f.get("accuracy_m") is not None]
    alarms = sorted({a for f in fixes for a in f.get("alarms", [])})
    times = [datetime.fromisoformat(f["fix_time"]) for f in fixes]
    longest_gap = max(((b - a).total_seconds() for a, b in itertools.pairwise(times)), default=None)
    return {
        "devices": sorted({f["device_id"] for f in fixes}),
        "fixes": len(fixes),
        "battery_min_pct": min(battery) if battery else None,
        "battery_max_pct": max(battery) if battery else None,
        "alarms": alarms,
        "longest_gap_s": longest_gap,
        "accuracy_median_m": sorted(accuracy)[len(accuracy) // 2] if accuracy else None,
        "flagged_fixes": sum(1 for f in fixes if f.get("implausible") or f.get("invalid_position")),
    }


def reasoning_json(
    violation: dict[str, Any], condition: dict[str, Any] | None, fixes: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """Why the violation stands: the engine's own detail plus, for a zone (circle or polygon),
    each fix during the episode measured against its edge as a disc (accuracy-aware, as the
    engine judges): certainly inside, certainly outside, or unsure."""
    import numpy as np

    from vigil.evidence.weekly import distance_to_edge

    out: dict[str, Any] = {"engine_detail": violation.get("detail", {})}
    geometry = (condition or {}).get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in _ZONE_TYPES:
        return out
    during = [f for f in fixes if f["period"] == "during" and f.get("lat") is not None]
    lats = np.array([f["lat"] for f in during], dtype=float)
    lons = np.array([f["lon"] for f in during], dtype=float)
    centre = lats.mean() if len(during) else 0.0, lons.mean() if len(during) else 0.0
    edge = distance_to_edge(condition or {}, lats, lons, float(centre[0]), float(centre[1]))
    rows = [_measured(f, float(d)) for f, d in zip(during, edge, strict=True)]
    if geometry["type"] == "Point":
        out["zone_radius_m"] = float((condition or {}).get("radius_m") or 0.0)
    out["fixes_during"] = rows
    out["certainly_inside"] = sum(1 for r in rows if r["assessment"] == "certainly inside")
    out["certainly_outside"] = sum(1 for r in rows if r["assessment"] == "certainly outside")
    return out


_ZONE_TYPES = ("Point", "Polygon", "MultiPolygon")


def _measured(fix: dict[str, Any], to_edge: float) -> dict[str, Any]:
    """One fix against the zone's edge (negative: inside), judged as a disc of its accuracy."""
    accuracy = float(fix.get("accuracy_m") or 0.0)
    if to_edge + accuracy <= 0:
        assessment = "certainly inside"
    elif to_edge - accuracy > 0:
        assessment = "certainly outside"
    else:
        assessment = "unsure"
    return {
        "fix_id": fix["id"],
        "fix_time": fix["fix_time"],
        "distance_to_edge_m": round(to_edge, 1),
        "accuracy_m": fix.get("accuracy_m"),
        "assessment": assessment,
    }


def evidence_json(inputs: PackInputs) -> dict[str, Any]:
    start = datetime.fromisoformat(inputs.violation["start"])
    end_text = inputs.violation.get("end")
    end = datetime.fromisoformat(end_text) if end_text else None
    fixes = [{**f, "period": period_of(f["fix_time"], start, end)} for f in inputs.fixes]
    return {
        "pack": {
            "reference": inputs.pack_reference,
            "created_at": inputs.created_at.isoformat(),
            "created_by": inputs.created_by,
            "reason": inputs.reason,
        },
        "wearer": inputs.wearer,
        "violation": inputs.violation,
        "condition_as_imposed": inputs.condition,
        "periods": {
            "before_from": (start - CONTEXT).isoformat(),
            "during_from": start.isoformat(),
            "during_to": end.isoformat() if end else None,
            "after_to": ((end or start) + CONTEXT).isoformat(),
        },
        "fixes": fixes,
        "device_health": device_health_json(fixes),
        "reasoning": reasoning_json(inputs.violation, inputs.condition, fixes),
        "alerts": list(inputs.alerts),
        "software": inputs.software,
    }
