"""The in-memory enforcement index: what the call and mail checks consult at dial time.

The database stays the source of truth. The index holds only blind indexes (never numbers or
addresses) and follows ``contact_bar_changes`` by its cursor: a full load once (at start-up, by
the ``vigil.contact.warmup`` background service), then the changes since the last one it applied.
A bar or lift made through this process marks it stale, so the next check sees it at once;
changes made by other processes are picked up within ``max_age`` seconds. Until the full load has
finished the index is not ``warm`` and the checks ask the database instead (same answers).

Barred numbers are kept compactly: each as an 8-byte digest in one sorted numpy array with the
item id beside it (16 bytes per number, against several hundred for Python objects). An
estate-wide bar is keyed by the number's blind index, a prisoner bar by the blind index together
with the prison number, so a check is two binary searches. A digest hit is only a candidate: the
refused path reads the item back from the database and confirms it before refusing.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from vigil.contact import addresses
from vigil.contact.model import BarScope, ItemKind
from vigil.contact.tables import contact_bar_changes, contact_bar_items


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


def digest(key: str) -> int:
    """The first 8 bytes of a hex blind index as a signed 64-bit integer."""
    return int(key[:16], 16) - (1 << 63)


def prisoner_digest(key: str, prison_number: str) -> int:
    """The digest of a number barred for one prisoner: the blind index with the prison number."""
    raw = hashlib.sha256(f"{key}|{prison_number}".encode()).digest()
    return int.from_bytes(raw[:8], "big", signed=True)


def phone_digest(key: str, scope: BarScope, prison_number: str | None) -> int:
    if scope is BarScope.ESTATE or prison_number is None:
        return digest(key)
    return prisoner_digest(key, prison_number)


@dataclass(frozen=True, slots=True)
class PhoneHit:
    """A barred number's item, still to be confirmed against the database before refusing."""

    item_id: int
    scope: BarScope
    key: str


class PhoneTable:
    """Barred numbers: a sorted array of digests with their item ids, plus changes since."""

    COMPACT_AFTER = 50_000

    def __init__(self) -> None:
        self.keys = np.empty(0, np.int64)
        self.items = np.empty(0, np.int64)
        self.added: dict[int, list[int]] = {}
        self.removed: set[int] = set()
        self._added_count = 0

    def __len__(self) -> int:
        return len(self.keys) - len(self.removed) + self._added_count

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.items.nbytes)

    def build(self, pairs: Iterable[tuple[int, int]]) -> None:
        keys: list[int] = []
        items: list[int] = []
        for key, item in pairs:
            keys.append(key)
            items.append(item)
        key_array = np.array(keys, np.int64)
        item_array = np.array(items, np.int64)
        del keys, items
        order = np.argsort(key_array, kind="stable")
        self.keys, self.items = key_array[order], item_array[order]
        self.added.clear()
        self.removed.clear()
        self._added_count = 0

    def add(self, key: int, item_id: int) -> None:
        self.removed.discard(item_id)
        if item_id in self._base_items(key):
            return
        found = self.added.setdefault(key, [])
        if item_id not in found:
            found.append(item_id)
            self._added_count += 1
        if self._added_count > self.COMPACT_AFTER:
            self._compact()

    def remove(self, key: int, item_id: int) -> None:
        found = self.added.get(key)
        if found and item_id in found:
            found.remove(item_id)
            self._added_count -= 1
            if not found:
                del self.added[key]
        elif item_id in self._base_items(key):
            self.removed.add(item_id)

    def find(self, key: int) -> list[int]:
        items = [i for i in self._base_items(key) if i not in self.removed]
        items.extend(self.added.get(key, ()))
        return items

    def _base_items(self, key: int) -> list[int]:
        keys = self.keys
        at = int(np.searchsorted(keys, key))
        out: list[int] = []
        while at < len(keys) and int(keys[at]) == key:
            out.append(int(self.items[at]))
            at += 1
        return out

    def _compact(self) -> None:
        keep = ~np.isin(self.items, np.fromiter(self.removed, np.int64, len(self.removed)))
        pairs = [(k, i) for k, items in self.added.items() for i in items]
        extra_keys = np.array([k for k, _ in pairs], np.int64)
        extra_items = np.array([i for _, i in pairs], np.int64)
        keys = np.concatenate([self.keys[keep], extra_keys])
        items = np.concatenate([self.items[keep], extra_items])
        order = np.argsort(keys, kind="stable")
        self.keys, self.items = keys[order], items[order]
        self.added.clear()
        self.removed.clear()
        self._added_count = 0


class EnforcementIndex:
    def __init__(self, indexer: Indexer, max_age: float = 1.0) -> None:
        self.indexer = indexer
        self.max_age = max_age
        self.cursor = 0
        self.warm = False
        self._loaded_at = 0.0
        self._stale = True
        self._lock = threading.Lock()
        self.phone_table = PhoneTable()
        # Addresses and emails (fewer, and compared part by part) keep an entry object each;
        # their blind-index strings are shared through ``_strings`` rather than held per row.
        self._by_item: dict[int, tuple[str, Entry]] = {}
        self._strings: dict[str, str] = {}
        self.emails: dict[str, list[Entry]] = {}
        self.postcodes: dict[str, list[Entry]] = {}
        self.streets: dict[str, list[Entry]] = {}

    def __len__(self) -> int:
        return len(self._by_item) + len(self.phone_table)

    def mark_stale(self) -> None:
        self._stale = True

    def needs_refresh(self) -> bool:
        return self.warm and (self._stale or time.monotonic() - self._loaded_at > self.max_age)

    def load(self, connection: Connection, stop: threading.Event | None = None) -> bool:
        """The full load; True once warm, False when ``stop`` was set part way through."""
        with self._lock:
            if self.warm:
                return True
            # Read the cursor first: a change committed during the load is replayed next time.
            top = connection.execute(select(func.max(contact_bar_changes.c.seq))).scalar()
            phones = connection.execute(
                select(
                    contact_bar_items.c.id,
                    contact_bar_items.c.scope,
                    contact_bar_items.c.prison_number,
                    contact_bar_items.c.match_index,
                ).where(
                    contact_bar_items.c.kind == ItemKind.PHONE.value,
                    contact_bar_items.c.active.is_(True),
                )
            ).yield_per(50_000)
            stopped = False

            def pairs() -> Iterable[tuple[int, int]]:
                nonlocal stopped
                for n, (item_id, scope, prison_number, key) in enumerate(phones):
                    if stop is not None and n % 50_000 == 0 and stop.is_set():
                        stopped = True
                        return
                    yield phone_digest(key, BarScope(scope), prison_number), item_id

            self.phone_table.build(pairs())
            if stopped:
                return False
            others = connection.execute(
                select(*ITEM_COLUMNS).where(
                    contact_bar_items.c.kind != ItemKind.PHONE.value,
                    contact_bar_items.c.active.is_(True),
                )
            ).yield_per(50_000)
            for n, row in enumerate(others):
                if stop is not None and n % 50_000 == 0 and stop.is_set():
                    return False
                self._add(row)
            self.cursor = int(top or 0)
            self.warm = True
            self._loaded_at = time.monotonic()
            self._stale = True  # catch up with changes made during the load at the next check
            return True

    def refresh(self, connection: Connection) -> None:
        """Apply the changes since the cursor; nothing until the full load has made it warm."""
        if not self.warm:
            return
        with self._lock:
            self._apply_changes(connection)
            self._loaded_at = time.monotonic()
            self._stale = False

    def _apply_changes(self, connection: Connection) -> None:
        rows = connection.execute(
            select(contact_bar_changes.c.seq, contact_bar_changes.c.change, *ITEM_COLUMNS)
            .join(contact_bar_items, contact_bar_items.c.id == contact_bar_changes.c.item_id)
            .where(contact_bar_changes.c.seq > self.cursor)
            .order_by(contact_bar_changes.c.seq)
        ).all()
        for row in rows:
            if row.kind == ItemKind.PHONE.value:
                key = phone_digest(row.match_index, BarScope(row.scope), row.prison_number)
                if row.change == "added":
                    self.phone_table.add(key, row.id)
                else:
                    self.phone_table.remove(key, row.id)
            elif row.change == "added":
                self._add(row)
            else:
                self._remove(row.id)
            self.cursor = row.seq

    def _intern(self, value: str | None) -> str | None:
        return None if value is None else self._strings.setdefault(value, value)

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
            prison_number=self._intern(row.prison_number),
            postcode=self._intern(row.postcode_index),
            street=self._intern(row.street_index),
            building=self._intern(row.building_index),
            flat=self._intern(row.flat_index),
            town=self._intern(row.town_index),
        )
        key: str = row.match_index
        self._by_item[item_id] = (key, entry)
        if kind is ItemKind.EMAIL:
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

    def phone_key(self, e164: str) -> str:
        return self.indexer(e164, PHONE_PURPOSE)

    def check_number(self, prison_number: str, e164: str) -> PhoneHit | None:
        """The barred item this call would reach, if any (estate-wide first: it is the stronger
        statement and does not depend on who dials)."""
        key = self.phone_key(e164)
        table = self.phone_table
        for item_id in table.find(digest(key)):
            return PhoneHit(item_id, BarScope.ESTATE, key)
        for item_id in table.find(prisoner_digest(key, prison_number)):
            return PhoneHit(item_id, BarScope.PRISONER, key)
        return None

    def check_address(self, prison_number: str, envelope: addresses.Address) -> MailHit | None:
        keys = address_indexes(self.indexer, envelope)
        candidates: list[Entry] = []
        if keys.postcode:
            candidates.extend(self.postcodes.get(keys.postcode, ()))
        if keys.street and not candidates:
            # No postcode written (or none barred there): the same building on the same street.
            candidates.extend(self.streets.get(_street_key(keys.street, keys.building), ()))
        return best_address(prison_number, keys, candidates)


def best_address(
    prison_number: str, keys: AddressIndexes, candidates: Iterable[Entry]
) -> MailHit | None:
    """The closest of the candidate barred addresses that covers this prisoner."""
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


def entry_from_row(row: Any) -> Entry:
    return Entry(
        item_id=row.id,
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


def _street_key(street: str, building: str | None) -> str:
    # Keyed by building too, so a long street's candidates stay few.
    return f"{street}|{building or ''}"


def _entry_address(entry: Entry) -> addresses.Address:
    return addresses.Address(entry.postcode, entry.building, entry.flat, entry.street, entry.town)


ITEM_COLUMNS = (
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
