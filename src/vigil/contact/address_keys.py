"""Barred addresses stored before flats were read from "2/14 High St": their parts re-derived.

Such an address was kept as building "2" on "14 HIGH STREET", so a letter to "Flat 2, 14 High
Street" (now read as flat 2 at number 14) would no longer be held. Its stored text still has the
two numbers ("2 14 HIGH STREET, ..."), which the parser now reads as the flat and the building, so
its blind indexes are computed again from that text. Needs the field key, so it is a command
(`vigil contact rekey-addresses`), not a schema migration, which runs without keys.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update

from vigil.contact import addresses
from vigil.contact.casefile import F_ITEM
from vigil.contact.index import address_indexes
from vigil.contact.model import ItemKind
from vigil.contact.tables import contact_bar_changes, contact_bar_items
from vigil.db.uow import UnitOfWork
from vigil.security import audit
from vigil.security.crypto import FieldCipher


def rekey_flat_addresses(uow: UnitOfWork, cipher: FieldCipher, *, actor: str) -> int:
    """Re-key the active barred addresses stored with no flat whose text names one; each change
    joins the feed, so every process's enforcement index takes it up. Returns how many."""
    conn = uow.connection
    rows = conn.execute(
        select(contact_bar_items.c.id, contact_bar_items.c.value_enc).where(
            contact_bar_items.c.kind == ItemKind.ADDRESS.value,
            contact_bar_items.c.active.is_(True),
            contact_bar_items.c.flat_index.is_(None),
        )
    ).all()
    now = uow.clock.now()
    changed = 0
    for row in rows:
        try:
            parsed = addresses.parse(cipher.decrypt(row.value_enc, F_ITEM), addressee=False)
        except addresses.NotAnAddress:
            continue
        if parsed.flat is None or (parsed.street or "")[:1].isdigit():
            # Nothing to re-read; or a reading still as unsure as the stored one (three numbers,
            # "2 1 14 HIGH STREET", from a tenement flat): such a bar is made again from its case.
            continue
        keys = address_indexes(cipher.blind_index, parsed)
        conn.execute(
            update(contact_bar_items)
            .where(contact_bar_items.c.id == row.id)
            .values(
                value_enc=cipher.encrypt(parsed.display, F_ITEM),
                match_index=keys.key,
                street_index=keys.street,
                building_index=keys.building,
                flat_index=keys.flat,
            )
        )
        for change in ("removed", "added"):
            conn.execute(
                insert(contact_bar_changes).values(
                    at=now, change=change, item_id=row.id, kind=ItemKind.ADDRESS.value
                )
            )
        changed += 1
    if changed:
        audit.record(
            conn,
            at=now,
            actor=actor,
            action="contact.addresses.rekeyed",
            subject_type="contact_bar_items",
            subject_id=None,
            detail={"count": changed},
        )
    return changed
