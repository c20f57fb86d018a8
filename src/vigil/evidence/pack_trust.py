"""Which signing keys are this system's: the key in its settings, and every key its database
records having signed packs with.

Verifying needs only public keys, so a machine that cannot sign (no private key in its settings,
as on a verifier's desk, or a demo folder checked outside the demo) still knows this system's
keys from the packs it stored: each row keeps the signed document, whose public key is compared
in full, not by its 16-digit id alone. The database is the system's own record; whoever can
rewrite it could also rewrite the packs, so it is trusted as much as the packs themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from vigil.db.engine import build_engine
from vigil.errors import ValidationError
from vigil.evidence.tables import evidence_packs
from vigil.settings import Settings

# Key id → signer name (what pack.verify is given to trust).
TrustedKeys = dict[str, str]


def configured_keys(settings: Settings) -> TrustedKeys:
    """The key the settings sign with, when they hold one (production without
    VIGIL_EVIDENCE_SIGNING_KEY holds none: it cannot sign, and says so when asked to)."""
    from vigil.evidence.packs import signing_key

    try:
        key = signing_key(settings)
    except (ValidationError, ValueError):
        return {}
    return {key.key_id: key.signer}


def recorded_keys(connection: Connection, key_id: str, public_key: str) -> TrustedKeys:
    """``{key_id: signer}`` when a pack this system stored was signed by exactly this public key
    (base64, as in the pack), else nothing."""
    row = connection.execute(
        select(evidence_packs.c.signer, evidence_packs.c.document)
        .where(evidence_packs.c.key_id == key_id, evidence_packs.c.document != "")
        .order_by(evidence_packs.c.id)
        .limit(1)
    ).first()
    if row is None:
        return {}
    try:
        stored = json.loads(row.document)["signature"]["public_key"]
    except (
        ValueError,
        KeyError,
        TypeError,
    ):  # a row whose document is not a pack vouches for nothing
        return {}
    if stored != public_key:
        return {}
    return {key_id: str(row.signer)}


def database_keys(database_url: str, key_id: str, public_key: str) -> tuple[TrustedKeys, str]:
    """The database's record of the key, and what kept the database from answering ("" when
    it answered). A SQLite file that is not there is not created."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return {}, f"no database at {url.database}"
    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            return recorded_keys(connection, key_id, public_key), ""
    except SQLAlchemyError as exc:
        return {}, f"the database could not be read ({type(exc).__name__})"
    finally:
        engine.dispose()
