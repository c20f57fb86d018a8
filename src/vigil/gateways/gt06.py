"""GT06 (Concox and its many clones) over TCP: ``78 78`` / ``79 79`` frames, CRC-ITU, acks.

Frame: start (2), length (1, or 2 for ``79 79``), type (1), content, serial (2), CRC-16/X-25
over length..serial (2), ``0D 0A``. The device logs in with its IMEI (type 0x01) and expects every
login, position, status and alarm frame acknowledged with an echo of type and serial.
"""

from __future__ import annotations

from datetime import datetime

from vigil.gateways.binary import Reader, crc16_x25
from vigil.gateways.gt06_basic import decode_basic
from vigil.gateways.gt06_extended import decode_extended
from vigil.gateways.gt06_frame import Frame, response
from vigil.gateways.gt06_types import MSG_LOGIN, variant_of
from vigil.gateways.model import Decoded, DecodeError, Draft, Session
from vigil.text import ascii_digits

NAME = "gt06"
MAX_FRAME = 2048


def decode(frame: bytes, session: Session, receive_time: datetime) -> Decoded:
    """Decode one complete frame (as cut by ``split_frames``)."""
    extended, length, msg_type, body = _header(frame)
    if len(frame) < body + 6:
        raise DecodeError("truncated", "no room for serial and CRC")
    tail, crc_ok = _tail(frame)
    serial = int.from_bytes(frame[tail - 4 : tail - 2], "big")
    declared = (2 + 1 + length + 2) if not extended else (2 + 2 + length + 2)
    # Clones that send a wrong length byte: upstream firmware still puts the fields in order,
    # so read up to the terminator rather than stopping at the declared end.
    r = Reader(frame, body, tail - 4 if declared == len(frame) else tail)
    raw = frame.hex()

    if msg_type == MSG_LOGIN and not extended:
        return _login(r, session, length, serial, crc_ok)
    if session.device_id is None:
        raise DecodeError("not_logged_in", f"type 0x{msg_type:02x} before a login frame")
    draft = Draft(NAME, session.device_id, receive_time, raw)
    f = Frame(
        r, draft, session, extended, msg_type, serial, variant_of(extended, length, msg_type, frame)
    )
    produced, reply = decode_extended(f) if extended else decode_basic(f, length, receive_time)
    out = Decoded(reply=reply, crc_ok=crc_ok)
    if produced:
        draft.attributes["type"] = msg_type
        out.fixes.append(draft.to_fix(crc_ok))
    return out


def _header(frame: bytes) -> tuple[bool, int, int, int]:
    """Whether the frame is extended, its declared length, its type and where its body starts."""
    if len(frame) < 5:
        raise DecodeError("truncated", "a GT06 frame is at least 5 bytes")
    start = frame[:2]
    if start == b"\x78\x78":
        return False, frame[2], frame[3], 4
    if start == b"\x79\x79":
        return True, (frame[2] << 8) | frame[3], frame[4], 5
    raise DecodeError("bad_frame", "a GT06 frame starts with 7878 or 7979")


def _tail(frame: bytes) -> tuple[int, bool]:
    """Where the frame's content ends (before any CR LF), and whether its CRC matches."""
    # A captured frame may have lost its CR LF; then its CRC cannot be found either.
    terminated = frame[-2:] == b"\r\n"
    tail = len(frame) - (2 if terminated else 0)
    crc_ok = terminated and crc16_x25(memoryview(frame)[2 : tail - 2]) == int.from_bytes(
        frame[tail - 2 : tail], "big"
    )
    return tail, crc_ok


def _login(r: Reader, session: Session, length: int, serial: int, crc_ok: bool) -> Decoded:
    imei = r.take(8).hex()[1:]
    if not ascii_digits(imei):
        raise DecodeError("bad_identity", f"login IMEI {imei!r} is not BCD digits")
    if r.remaining >= 2:
        r.skip(2)  # type identification code (absent on older firmware)
    if length - 5 > 10 and r.remaining >= 2:
        bits = r.u16()
        hours, minutes = (bits >> 4) // 100, (bits >> 4) % 100
        offset = (hours * 60 + minutes) * 60
        session.utc_offset_s = -offset if bits & 0x8 else offset
    session.device_id = imei
    return Decoded(reply=response(False, MSG_LOGIN, serial), login=imei, crc_ok=crc_ok)


def split_frames(buffer: bytearray) -> tuple[list[bytes], int]:
    """Cut complete frames off the front of a TCP stream buffer.

    Returns the frames and the number of junk bytes dropped while looking for a start marker.
    An incomplete frame stays in the buffer for the next read.
    """
    frames: list[bytes] = []
    junk = 0
    while len(buffer) >= 5:
        if buffer[0] == buffer[1] and buffer[0] in (0x78, 0x79):
            frame, dropped = _cut_frame(buffer)
            if frame is not None:
                frames.append(frame)
            elif not dropped:
                break  # incomplete: wait for the rest
            junk += dropped
            continue
        nxt = _next_start(buffer, 1)
        if nxt < 0:
            dropped = len(buffer) - 1
            del buffer[:dropped]
            junk += dropped
            break
        del buffer[:nxt]
        junk += nxt
    return frames, junk


def _cut_frame(buffer: bytearray) -> tuple[bytes | None, int]:
    """At a start marker: (the frame, 0) when it is complete, (None, bytes dropped) when the
    marker was junk, (None, 0) when the frame is still arriving."""
    # Marker, then a one-byte (0x7878) or two-byte (0x7979) length field and what it counts,
    # then CR LF.
    counted = 1 + buffer[2] if buffer[0] == 0x78 else 2 + ((buffer[2] << 8) | buffer[3])
    size = 2 + counted + 2
    if size > MAX_FRAME:
        del buffer[:1]
        return None, 1
    if len(buffer) < size:
        return None, 0
    if buffer[size - 2 : size] != b"\r\n":
        # Some clones send a wrong length byte: fall back to the first CR LF, unless another
        # frame starts before it (then this was junk that looked like a start).
        end = buffer.find(b"\r\n", 4)
        nxt = _next_start(buffer, 2)
        if end < 0 or (0 <= nxt < end):
            drop = nxt if nxt > 0 else 1
            del buffer[:drop]
            return None, drop
        size = end + 2
    frame = bytes(buffer[:size])
    del buffer[:size]
    return frame, 0


def _next_start(buffer: bytearray, at: int) -> int:
    a = buffer.find(b"\x78\x78", at)
    b = buffer.find(b"\x79\x79", at)
    found = [x for x in (a, b) if x >= 0]
    return min(found) if found else -1
