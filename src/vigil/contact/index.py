"""The in-memory enforcement index: what the call and mail checks consult at dial time.

The database stays the source of truth. The index holds only blind indexes (never numbers or
addresses) and follows ``contact_bar_changes`` by its cursor: a full load once, then the changes
since the last one it applied. A bar or lift made through this process marks it stale, so the next
check sees it at once; changes made by other processes are picked up within ``max_age`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, func, select

from vigil.contact import addresses
from vigil.contact.model import BarScope, ItemKind
from vigil.contact.tables import contact_bar_changes, contact_bar_items
from vigil.security.crypto import FieldCipher


@dataclass(frozen=True, slots=True)
class Entry:
    item_id: int
    bar_id: int
    case_id: int
    scope: BarScope
    prison_number: str | None
    postcode: str | None = None
    street: str | None = None
    building: str | None = None
    flat: str | None = None
    town: str | None = None

    def covers(self, prison_number: str) -> bool:
        return self.scope is BarScope.ESTATE or self.prison_number == prison_number


@dataclass(frozen=True)
class MailHit:
    entry: Entry
    score: float
    reasons: tuple[str, ...]


Indexer = Callable[[str, str], str]


class EnforcementIndex:
    def __init__(self, indexer: Indexer, max_age: float = 1.0) -> None:
        self._indexer = indexer
        self.max_age = max_age
        self.cursor = 0
        self._loaded_at = 0.0
        self._stale = True
        self._lock = threading.Lock()
        self._by_item: dict[int, tuple[str, Entry]] = {}
        self.phones: dict[str, list[Entry]] = {}
        self.emails: dict[str, list[Entry]] = {}
        self.postcodes: dict[str, list[Entry]] = {}
        self.streets: dict[str, list[Entry]] = {}

    def __len__(self) -> int:
        return len(self._by_item)

    def mark_stale(self) -> None:
        self._stale = True

    def needs_refresh(self) -> bool:
        return self._stale or time.monotonic() - self._loaded_at > self.max_age

    def refresh(self, connection: Connection) -> None:
        with self._lock:
            if self.cursor == 0 and not self._by_item:
                self._load_all(connection)
            else:
                self._apply_changes(connection)
            self._loaded_at = time.monotonic()
            self._stale = False

    def _load_all(self, connection: Connection) -> None:
        # Read the cursor first: a change committed during the load is replayed next time.
        top = connection.execute(select(func.max(contact_bar_changes.c.seq))).scalar()
        rows = connection.execute(
            select(*_ITEM_COLUMNS).where(contact_bar_items.c.active.is_(True))
        ).yield_per(50_000)
        for row in rows:
            self._add(row)
        self.cursor = int(top or 0)

    def _apply_changes(self, connection: Connection) -> None:
        rows = connection.execute(
            select(contact_bar_changes.c.seq, contact_bar_changes.c.change, *_ITEM_COLUMNS)
            .join(contact_bar_items, contact_bar_items.c.id == contact_bar_changes.c.item_id)
            .where(contact_bar_changes.c.seq > self.cursor)
            .order_by(contact_bar_changes.c.seq)
        ).all()
        for row in rows:
            if row.change == "added":
                self._add(row)
            else:
                self._remove(row.id)
            self.cursor = row.seq

    def _add(self, row: Any) -> None:
        item_id: int = row.id
        if item_id in self._by_item:
            return
        kind = ItemKind(row.kind)
        entry = Entry(
            item_id=item_id,
            bar_id=row.bar_id,
            case_id=row.case_id,
            scope=BarScope(row.scope),
            prison_number=row.prison_number,
            postcode=row.postcode_index,
            street=row.street_index,
            building=row.building_index,
            flat=row.flat_index,
            town=row.town_index,
        )
        key: str = row.match_index
        self._by_item[item_id] = (key, entry)
        if kind is ItemKind.PHONE:
            self.phones.setdefault(key, []).append(entry)
        elif kind is ItemKind.EMAIL:
            self.emails.setdefault(key, []).append(entry)
        else:
            if entry.postcode:
                self.postcodes.setdefault(entry.postcode, []).append(entry)
            if entry.street:
                self.streets.setdefault(_street_key(entry.street, entry.building), []).append(entry)

    def _remove(self, item_id: int) -> None:
        found = self._by_item.pop(item_id, None)
        if found is None:
            return
        key, entry = found
        for table, k in (
            (self.phones, key),
            (self.emails, key),
            (self.postcodes, entry.postcode),
            (self.streets, _street_key(entry.street, entry.building) if entry.street else None),
        ):
            if k is None or k not in table:
                continue
            table[k] = [e for e in table[k] if e.item_id != item_id]
            if not table[k]:
                del table[k]

    # --- checks -------------------------------------------------------------------------------

    def check_number(self, prison_number: str, e164: str) -> Entry | None:
        entries = self.phones.get(self._indexer(e164, PHONE_PURPOSE))
        if not entries:
            return None
        # Estate-wide first: it is the stronger statement and does not depend on who dials.
        for entry in sorted(entries, key=lambda e: e.scope is not BarScope.ESTATE):
            if entry.covers(prison_number):
                return entry
        return None

    def check_address(self, prison_number: str, envelope: addresses.Address) -> MailHit | None:
        keys = address_indexes(self._indexer, envelope)
        candidates: list[Entry] = []
        if keys.postcode:
            candidates.extend(self.postcodes.get(keys.postcode, ()))
        if keys.street and not candidates:
            # No postcode written (or none barred there): the same building on the same street.
            candidates.extend(self.streets.get(_street_key(keys.street, keys.building), ()))
        best: MailHit | None = None
        seen: set[int] = set()
        for entry in candidates:
            if entry.item_id in seen or not entry.covers(prison_number):
                continue
            seen.add(entry.item_id)
            match = addresses.compare(keys.as_address(), _entry_address(entry))
            if best is None or match.score > best.score:
                best = MailHit(entry, match.score, match.reasons)
        return best


PHONE_PURPOSE = "contact.phone"
EMAIL_PURPOSE = "contact.email"
ADDRESS_PURPOSE = "contact.address"


@dataclass(frozen=True)
class AddressIndexes:
    """An address with every part replaced by its blind index; compared like the plain one."""

    postcode: str | None
    street: str | None
    building: str | None
    flat: str | None
    town: str | None
    key: str

    def as_address(self) -> addresses.Address:
        return addresses.Address(self.postcode, self.building, self.flat, self.street, self.town)


def address_indexes(indexer: Indexer, address: addresses.Address) -> AddressIndexes:
    def part(name: str, value: str | None) -> str | None:
        return None if value is None else indexer(value, f"{ADDRESS_PURPOSE}.{name}")

    whole = "|".join(
        [address.postcode or address.street or "", address.building or "", address.flat or ""]
    )
    return AddressIndexes(
        postcode=part("postcode", address.postcode),
        street=part("street", address.street),
        building=part("building", address.building),
        flat=part("flat", address.flat),
        town=part("town", address.town),
        key=indexer(whole, ADDRESS_PURPOSE),
    )


def _street_key(street: str, building: str | None) -> str:
    # Keyed by building too, so a long street's candidates stay few.
    return f"{street}|{building or ''}"


def _entry_address(entry: Entry) -> addresses.Address:
    return addresses.Address(entry.postcode, entry.building, entry.flat, entry.street, entry.town)


_ITEM_COLUMNS = (
    contact_bar_items.c.id,
    contact_bar_items.c.bar_id,
    contact_bar_items.c.case_id,
    contact_bar_items.c.kind,
    contact_bar_items.c.scope,
    contact_bar_items.c.prison_number,
    contact_bar_items.c.match_index,
    contact_bar_items.c.postcode_index,
    contact_bar_items.c.street_index,
    contact_bar_items.c.building_index,
    contact_bar_items.c.flat_index,
    contact_bar_items.c.town_index,
)


class _HasExtras(Protocol):
    extras: dict[str, object]
    cipher: FieldCipher


_INDEX_KEY = "contact.enforcement_index"
_index_lock = threading.Lock()


def shared_index(container: _HasExtras) -> EnforcementIndex:
    """One index per process, built on first use and kept in the container."""
    found = container.extras.get(_INDEX_KEY)
    if isinstance(found, EnforcementIndex):
        return found
    with _index_lock:
        found = container.extras.get(_INDEX_KEY)
        if not isinstance(found, EnforcementIndex):
            found = EnforcementIndex(container.cipher.blind_index)
            container.extras[_INDEX_KEY] = found
        return found
