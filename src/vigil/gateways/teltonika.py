"""Teltonika over TCP: IMEI login, AVL packets in Codec 8, 8 Extended, 16, 7 (GH), 12 and 13.

Login: 2-byte length + ASCII IMEI; we answer ``01`` (accepted) or ``00`` (rejected). Data:
``00000000`` preamble, 4-byte data length, codec, record count, records, record count again,
4-byte CRC-16/IBM over codec..second count. We answer with the record count as 4 bytes, which
tells the device it may delete those records.
"""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import datetime

from vigil.gateways.binary import Reader, crc16_ibm, is_printable
from vigil.gateways.model import (
    KMH_TO_MPS,
    Decoded,
    DecodeError,
    Draft,
    Session,
    from_epoch,
)
from vigil.gateways.teltonika_io import AVL_IO, GH3000_IO, read_io

NAME = "teltonika"
MAX_FRAME = 65_536
MAX_IMEI = 32

CODEC_GH3000 = 0x07
CODEC_8 = 0x08
CODEC_8_EXT = 0x8E
CODEC_12 = 0x0C
CODEC_13 = 0x0D
CODEC_16 = 0x10
LOCATION_CODECS = (CODEC_GH3000, CODEC_8, CODEC_8_EXT, CODEC_16)
GH3000_EPOCH = 1167609600  # 2007-01-01T00:00:00Z

_RECORD_HEAD = struct.Struct(">QBiihHBH")  # time, priority, lon, lat, altitude, angle, sats, speed


def decode(message: bytes, session: Session, receive_time: datetime) -> Decoded:
    """Decode one TCP message: a login, a keep-alive byte or an AVL packet."""
    if message == b"\xff":
        return Decoded()  # keep-alive
    if len(message) < 2:
        raise DecodeError("truncated", "a Teltonika message is at least 2 bytes")
    size = (message[0] << 8) | message[1]
    if size > 0:
        return _login(message, size, session)
    if session.device_id is None:
        raise DecodeError("not_logged_in", "AVL data before the IMEI login")
    return _avl(message, session.device_id, receive_time)


def _login(message: bytes, size: int, session: Session) -> Decoded:
    imei = message[2 : 2 + size]
    if len(imei) != size or size > MAX_IMEI or not imei.isdigit():  # bytes: ASCII digits only
        # Tell the device no, and drop it: it will retry with a corrected configuration.
        return Decoded(reply=b"\x00", close=True)
    session.device_id = imei.decode("ascii")
    return Decoded(reply=b"\x01", login=session.device_id)


def _avl(message: bytes, device_id: str, receive_time: datetime) -> Decoded:
    if len(message) < 8 + 3 + 4:
        raise DecodeError("truncated", "AVL packet shorter than its header and CRC")
    declared = int.from_bytes(message[4:8], "big")
    # Records are read up to the real end: some devices send a length or CRC that is short.
    r = Reader(message, 8)
    codec = r.u8()
    count = r.u8()
    raw = message.hex()
    fixes = []
    for _ in range(count):
        d = Draft(NAME, device_id, receive_time, raw)
        if not _avl_item(d, r, codec):
            continue
        if declared != len(message) - 12:
            d.attributes["length_mismatch"] = True
        d.attributes["codec"] = codec
        fixes.append(d.to_fix())
    if r.remaining >= 1:
        r.u8()  # the record count, repeated
    crc_ok = _crc_ok(message, r.pos)
    if not crc_ok:
        fixes = [replace(f, attributes={**f.attributes, "crc_ok": False}) for f in fixes]
    # Commands and their responses are not acknowledged with a count.
    reply = b"" if codec in (CODEC_12, CODEC_13) else count.to_bytes(4, "big")
    return Decoded(fixes=fixes, reply=reply, crc_ok=crc_ok)


def _avl_item(d: Draft, r: Reader, codec: int) -> bool:
    """Read one record or command response into ``d``; False for one that is not kept."""
    if codec == CODEC_13:
        r.u8()  # type
        length = r.u32() - 4
        d.fix_time = from_epoch(r.u32())
        _result(d, r.take(length))
    elif codec == CODEC_12:
        kind = r.u8()
        data = r.take(r.u32())
        if kind == 0x0D:
            return False  # camera transfer: not kept
        d.attributes["type"] = kind
        _result(d, data)
    elif codec in LOCATION_CODECS:
        _location(d, r, codec)
    else:
        raise DecodeError("unknown_codec", f"codec 0x{codec:02x}")
    return True


def _crc_ok(message: bytes, crc_end: int) -> bool:
    crc = message[crc_end : crc_end + 4]
    body = memoryview(message)[8:crc_end]
    return len(crc) == 4 and crc16_ibm(body) == int.from_bytes(crc, "big")


def _result(d: Draft, data: bytes) -> None:
    text = data.decode("ascii").strip() if is_printable(data) else data.hex()
    d.attributes["result"] = text
    if text.startswith("GTSL"):  # iButton / driver identification report
        parts = text.split("|")
        if len(parts) > 4 and parts[4]:
            d.attributes["driver_id"] = parts[4]


def _location(d: Draft, r: Reader, codec: int) -> None:
    ext = False
    if codec == CODEC_GH3000:
        _gh3000_record(d, r)
    else:
        ext = _avl_record(d, r, codec)
    if ext:
        for _ in range(r.u16()):
            io_id = r.u16()
            d.attributes[f"io{io_id}"] = r.take(r.u16()).hex()
    if not d.valid:
        # No satellites: the position is the last known one, not a fresh fix.
        d.approximate = True


def _gh3000_record(d: Draft, r: Reader) -> None:
    """GH3000's record: a masked GPS element, then IO groups of 1, 2 and 4 byte values."""
    seconds = (r.u32() & 0x3FFFFFFF) + GH3000_EPOCH
    d.fix_time = from_epoch(seconds)
    global_mask = r.u8()
    if global_mask & 1:
        _gh3000_gps(d, r, r.u8())
    for bit, size in enumerate((1, 2, 4), start=1):
        if not global_mask & (1 << bit):
            continue
        for _ in range(r.u8()):
            io_id = r.u8()
            read_io(GH3000_IO, d, io_id, r.uint(size), size)


def _gh3000_gps(d: Draft, r: Reader, mask: int) -> None:
    # Each bit of the mask says whether its field is present, in this order.
    if mask & 1:
        d.lat = struct.unpack(">f", r.take(4))[0]
        d.lon = struct.unpack(">f", r.take(4))[0]
    if mask & 2:
        d.altitude_m = float(r.u16())
    if mask & 4:
        d.heading = r.u8() * 360.0 / 256
    if mask & 8:
        d.speed_mps = round(r.u8() * KMH_TO_MPS, 3)
    if mask & 16:
        d.satellites = r.u8()
        d.valid = d.satellites > 0
    if mask & 32:
        d.attributes["cell"] = {"lac": r.u16(), "cid": r.u16()}
    if mask & 64:
        d.attributes["rssi"] = r.u8()
    if mask & 128:
        d.attributes["operator"] = r.u32()


_IO_SIZES = (1, 2, 4, 8)


def _avl_record(d: Draft, r: Reader, codec: int) -> bool:
    """Codec 8, 8 Extended and 16: one ``struct`` unpack for the fixed head, then the IO groups
    read straight from the bytes, each group bounds-checked once. Returns whether the record
    has Codec 8 Extended's variable-length IO group after these."""
    data, pos, end = r.data, r.pos, r.end
    if pos + _RECORD_HEAD.size + (2 if codec == CODEC_8 else 4) > end:
        raise DecodeError("truncated", f"AVL record at offset {pos} runs past the packet")
    millis, priority, lon, lat, altitude, angle, sats, speed = _RECORD_HEAD.unpack_from(data, pos)
    pos += _RECORD_HEAD.size
    d.fix_time = from_epoch(millis / 1000.0)
    d.lon = lon / 10_000_000.0
    d.lat = lat / 10_000_000.0
    d.altitude_m = float(altitude)
    d.heading = float(angle)
    d.satellites = sats
    d.valid = sats != 0
    d.speed_mps = round(speed * KMH_TO_MPS, 3)
    ext = codec == CODEC_8_EXT
    if codec == CODEC_8:
        event = data[pos]
        pos += 2  # event IO id, total IO count
    else:
        event = (data[pos] << 8) | data[pos + 1]
        pos += 4  # event IO id (2), then generation type (1) and count (1), or count (2)
    d.attributes["priority"] = priority
    d.attributes["event"] = event
    pos = _io_groups(d, data, pos, end, codec)
    r.pos = pos
    return ext


def _io_groups(d: Draft, data: bytes, pos: int, end: int, codec: int) -> int:
    """The 1, 2, 4 and 8 byte IO groups of a Codec 8/8E/16 record; returns where they end."""
    ext = codec == CODEC_8_EXT
    table = AVL_IO
    id_size = 1 if codec == CODEC_8 else 2
    count_size = 2 if ext else 1
    for size in _IO_SIZES:
        if pos + count_size > end:
            raise DecodeError("truncated", f"IO group at offset {pos} runs past the packet")
        n = (data[pos] << 8) | data[pos + 1] if ext else data[pos]
        pos += count_size
        if not n:
            continue
        step = id_size + size
        stop = pos + n * step
        if stop > end:
            raise DecodeError("truncated", f"{n} IO elements at offset {pos} run past the packet")
        for at in range(pos, stop, step):
            io_id = data[at] if id_size == 1 else (data[at] << 8) | data[at + 1]
            at += id_size
            value = data[at] if size == 1 else int.from_bytes(data[at : at + size], "big")
            read_io(table, d, io_id, value, size)
        pos = stop
    return pos


def split_frames(buffer: bytearray) -> tuple[list[bytes], int]:
    """Cut logins, keep-alive bytes and AVL packets off a TCP stream; skip leading junk."""
    frames: list[bytes] = []
    junk = 0
    while buffer:
        if buffer[0] == 0xFF:
            frames.append(b"\xff")
            del buffer[:1]
            continue
        if len(buffer) < 2:
            break
        size = (buffer[0] << 8) | buffer[1]
        if size == 0:
            if len(buffer) < 8:
                if any(buffer[2:4]):
                    junk += _drop_to_next(buffer)
                    continue
                break
            if buffer[2:4] != b"\x00\x00":
                junk += _drop_to_next(buffer)
                continue
            total = 8 + int.from_bytes(buffer[4:8], "big") + 4
            if total > MAX_FRAME or total < 15:
                junk += _drop_to_next(buffer)
                continue
            if len(buffer) < total:
                break
            frames.append(bytes(buffer[:total]))
            del buffer[:total]
            continue
        if size <= MAX_IMEI:
            # A login; the decoder answers 00 to one that is not an IMEI.
            if len(buffer) < 2 + size:
                break
            frames.append(bytes(buffer[: 2 + size]))
            del buffer[: 2 + size]
            continue
        junk += _drop_to_next(buffer)
    return frames, junk


def _drop_to_next(buffer: bytearray) -> int:
    """Drop bytes up to the next plausible message start (a zero byte or a keep-alive)."""
    for i in range(1, len(buffer)):
        if buffer[i] in (0x00, 0xFF):
            del buffer[:i]
            return i
    n = len(buffer)
    del buffer[:]
    return n
