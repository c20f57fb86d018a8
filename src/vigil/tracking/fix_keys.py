"""One row per report: the trail's key, and the search for fixes already stored.

A fix is the report of a stored one when its device, its fix time and its **frame key** are the
same. The frame key is the first 8 bytes of BLAKE2b of the raw message as received (a signed
64-bit integer, so it fits a BIGINT on both databases). A fix that came without a raw message (a
replay's CSV row, the simulator) is keyed by its decoded fields instead: position, accuracy,
validity, speed, heading, altitude, satellites, battery, charging, alarms, protocol and
attributes, as stored. Receive time, the wearer and the quality flags are not part of the key: a
resend is received later, and the wearer and flags are our conclusions, not the device's report.

A cryptographic hash, not a checksum: a message made to collide with a genuine one (same device,
same fix time) and sent first would make the genuine one look like its resend, and be dropped.
BLAKE2b's 8 bytes make finding such a message a 2^64 search; a CRC would make it arithmetic.

The unique index ``ux_fixes_time_device_frame`` (migration tracking_0002) enforces the key. It
leads with the fix time so that a batch's entries land together at the index's growing end (led
by the device, each batch dirtied a page of it per device; docs/performance.md). ``store.append``
inserts a batch optimistically; only when the index refuses a fix does ``stored`` find which of
the batch are already in the trail (one probe per fix time and device) so that the rest are
stored. Rows stored before tracking_0002 have no frame key (null, which a unique index never
counts as equal); ``stored`` computes theirs from the row when it meets one, and
``may_meet_rows_without_key`` says when a batch reaches back to them.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from hashlib import blake2b
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

# (device_id, fix time in microseconds, frame key): what makes a fix one report.
Key = tuple[str, int, int]

UNIQUE_INDEX = "ux_fixes_time_device_frame"
_PG_KEY = "Key (fix_time, device_id, frame_key)="
# Positions in a store row (``store._row``: no id) of the fields the lookup reads.
DEVICE, FIX_TIME = 0, 2

# Packed, the numbers cost a fraction of their text form (which was most of a replay's key),
# and 81 and 81.0 are one value.
_NUMBERS = struct.Struct("<7d")
_NONE = math.nan

# What a candidate row is read as (``_stored_row_key`` reads the columns after frame_key): the
# rows at exactly a batch fix's time and device, one probe of the unique index each.
# Qualified: json_each has columns of its own named id and key.
_SQLITE_STORED = (
    "SELECT f.id, f.device_id, f.fix_time, f.frame_key, f.raw, f.lat, f.lon, f.accuracy_m, "
    "f.valid, f.speed_mps, f.heading, f.altitude_m, f.satellites, f.battery_pct, f.charging, "
    "f.alarms, f.protocol, f.attributes FROM json_each(?) AS b JOIN fixes AS f "
    "ON f.fix_time = json_extract(b.value, '$[0]') AND f.device_id = json_extract(b.value, '$[1]')"
)
# PostgreSQL: a lateral subquery fenced by OFFSET 0 is an index probe per pair, always. As a
# plain join, the planner hashes the whole table once it knows the array's size (measured: a
# sequential scan of 100,000 rows for 10,000 devices, and growing with the trail).
_PG_STORED = (
    "SELECT f.id, f.device_id, f.fix_time, f.frame_key, f.raw, f.lat, f.lon, f.accuracy_m, "
    "f.valid, f.speed_mps, f.heading, f.altitude_m, f.satellites, f.battery_pct, f.charging, "
    "f.alarms, f.protocol, f.attributes "
    "FROM unnest(%s::bigint[], %s::text[]) AS b(fix_time, device_id) "
    "CROSS JOIN LATERAL (SELECT * FROM fixes WHERE fixes.fix_time = b.fix_time "
    "AND fixes.device_id = b.device_id OFFSET 0) AS f"
)


def _digest(data: bytes) -> int:
    return int.from_bytes(blake2b(data, digest_size=8).digest(), "big", signed=True)


def raw_key(raw: str) -> int:
    """The frame key of a fix with a raw message."""
    # Lone surrogates can reach us from a device's bytes; they hash as they are.
    return _digest(raw.encode("utf-8", "surrogatepass"))


def decoded_key(
    lat: float | None,
    lon: float | None,
    accuracy: float | None,
    speed: float | None,
    heading: float | None,
    altitude: float | None,
    battery: float | None,
    valid: bool,
    satellites: int | None,
    charging: bool | None,
    alarms: str,
    protocol: str,
    attributes: str,
) -> int:
    """The frame key of a fix without a raw message, from what it reports (alarms and
    attributes as stored: sorted and comma-joined, JSON with sorted keys). One argument per
    field: a replay keys every fix this way, and building tuples for it cost a third more."""
    numbers = _NUMBERS.pack(
        _NONE if lat is None else lat,
        _NONE if lon is None else lon,
        _NONE if accuracy is None else accuracy,
        _NONE if speed is None else speed,
        _NONE if heading is None else heading,
        _NONE if altitude is None else altitude,
        _NONE if battery is None else battery,
    )
    text = decoded_text(valid, satellites, charging, alarms, protocol, attributes)
    return _digest(numbers + text)


def decoded_text(
    valid: bool,
    satellites: int | None,
    charging: bool | None,
    alarms: str,
    protocol: str,
    attributes: str,
) -> bytes:
    """The part of a decoded key after the seven packed numbers."""
    text = f"{valid}|{satellites}|{charging}|{alarms}|{protocol}|{attributes}"
    return text.encode("utf-8", "surrogatepass")


def decoded_keys(
    numbers: npt.NDArray[np.float64], texts: Sequence[bytes], text_of: npt.NDArray[np.intp]
) -> npt.NDArray[np.int64]:
    """``decoded_key`` of a whole batch (a bulk load): row i of ``numbers`` holds fix i's seven
    numbers in ``decoded_key``'s order, NaN for a value it lacks, and ``texts[text_of[i]]`` is
    its ``decoded_text`` (a batch has few distinct ones). The bytes hashed are exactly
    ``decoded_key``'s; the fixes sharing a text are laid out as one array of messages, so a fix
    costs one BLAKE2b call and no Python objects of its own."""
    # Every NaN as the one NaN ``decoded_key`` packs for None (a NaN's payload bits could differ).
    packed = np.where(np.isnan(numbers), _NONE, numbers).astype("<f8").view(np.uint8)
    keys = np.empty(len(text_of), dtype=np.int64)
    for code, text in enumerate(texts):
        members: npt.NDArray[np.intp] | slice = (
            slice(None) if len(texts) == 1 else np.flatnonzero(text_of == code)
        )
        messages = np.empty((len(keys[members]), _NUMBERS.size + len(text)), dtype=np.uint8)
        messages[:, : _NUMBERS.size] = packed[members]
        messages[:, _NUMBERS.size :] = np.frombuffer(text, dtype=np.uint8)
        digests = b"".join([blake2b(message.data, digest_size=8).digest() for message in messages])
        keys[members] = np.frombuffer(digests, dtype=">i8")
    return keys


def _stored_row_key(found: Sequence[Any]) -> int:
    """The frame key of a row stored before keys were (a null ``frame_key``), from its columns
    as the database gives them back (SQLite gives booleans as 0 and 1)."""
    raw = found[4]
    if raw:
        return raw_key(raw)
    lat, lon, acc, valid, speed, heading, alt, sats, battery, charging = found[5:15]
    alarms, protocol, attributes = found[15:18]
    return decoded_key(
        lat,
        lon,
        acc,
        speed,
        heading,
        alt,
        battery,
        bool(valid),
        None if sats is None else int(sats),
        None if charging is None else bool(charging),
        alarms,
        protocol,
        attributes,
    )


def stored(connection: Connection, rows: Sequence[Sequence[Any]]) -> dict[Key, int]:
    """Fixes already in the trail at a fix time and device of ``rows``: key → row id (the
    first row's, where rows stored before keys existed hold the same report twice)."""
    pairs = list({(row[FIX_TIME], row[DEVICE]) for row in rows})
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "sqlite":
        cursor = driver.cursor()
        try:
            found = cursor.execute(_SQLITE_STORED, (json.dumps(pairs),)).fetchall()
        finally:
            cursor.close()
    else:
        with driver.cursor() as cursor:
            times, devices = [p[0] for p in pairs], [p[1] for p in pairs]
            cursor.execute(_PG_STORED, (times, devices))
            found = cursor.fetchall()
    known: dict[Key, int] = {}
    for row in sorted(found, key=lambda r: int(r[0])):
        key = row[3] if row[3] is not None else _stored_row_key(row)
        known.setdefault((row[1], int(row[2]), int(key)), int(row[0]))
    return known


# Rows stored before tracking_0002 carry no key, so the unique index cannot see a resend of one;
# a partial index holds only them (empty on a store created since), so this is a single probe.
_BEFORE_KEYS = "SELECT max(fix_time) FROM fixes WHERE frame_key IS NULL"


def may_meet_rows_without_key(connection: Connection, rows: Sequence[Sequence[Any]]) -> bool:
    """Could a fix of ``rows`` be a resend of a row stored before the key existed?"""
    latest = connection.exec_driver_sql(_BEFORE_KEYS).scalar()
    return latest is not None and min(row[FIX_TIME] for row in rows) <= int(latest)


def is_resend(error: BaseException) -> bool:
    """Was an insert refused by the one-row-per-report index (not by anything else)?"""
    # PostgreSQL names the index (each partition's copy is named after it, tracking.partitions)
    # and gives the key's columns, whoever named the index (a partition made by hand).
    if UNIQUE_INDEX in str(error) or _PG_KEY in str(error):
        return True
    # SQLite names the columns.
    return "UNIQUE constraint failed: fixes.fix_time, fixes.device_id, fixes.frame_key" in str(
        error
    )
