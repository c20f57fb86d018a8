"""Bounds-checked big-endian reading and the CRCs the binary protocols use."""

from __future__ import annotations

import struct

from fastcrc import crc16 as _crc16

from vigil.gateways.model import DecodeError

_U16 = struct.Struct(">H")
_I16 = struct.Struct(">h")
_U32 = struct.Struct(">I")
_I32 = struct.Struct(">i")
_U64 = struct.Struct(">Q")
_I64 = struct.Struct(">q")


class Reader:
    """A cursor over bytes; reading past the end is a ``DecodeError('truncated')``."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def _need(self, n: int) -> int:
        at = self.pos
        if n < 0 or at + n > self.end:
            raise DecodeError("truncated", f"needed {n} bytes at offset {at}, {self.end - at} left")
        self.pos = at + n
        return at

    def take_at(self, n: int) -> int:
        """Claim the next ``n`` bytes and return their offset (for one ``struct`` unpack)."""
        return self._need(n)

    def u8(self) -> int:
        return self.data[self._need(1)]

    def i8(self) -> int:
        value = self.u8()
        return value - 256 if value > 127 else value

    def u16(self) -> int:
        return int(_U16.unpack_from(self.data, self._need(2))[0])

    def i16(self) -> int:
        return int(_I16.unpack_from(self.data, self._need(2))[0])

    def u24(self) -> int:
        at = self._need(3)
        return int.from_bytes(self.data[at : at + 3], "big")

    def u32(self) -> int:
        return int(_U32.unpack_from(self.data, self._need(4))[0])

    def i32(self) -> int:
        return int(_I32.unpack_from(self.data, self._need(4))[0])

    def u64(self) -> int:
        return int(_U64.unpack_from(self.data, self._need(8))[0])

    def i64(self) -> int:
        return int(_I64.unpack_from(self.data, self._need(8))[0])

    def uint(self, size: int) -> int:
        at = self._need(size)
        return int.from_bytes(self.data[at : at + size], "big")

    def sint(self, size: int) -> int:
        at = self._need(size)
        return int.from_bytes(self.data[at : at + size], "big", signed=True)

    def take(self, n: int) -> bytes:
        at = self._need(n)
        return bytes(self.data[at : at + n])

    def skip(self, n: int) -> None:
        self._need(n)


# Both CRCs run over every byte a tag sends; in pure Python they cost more than the decoding
# itself (about 0.25 µs a byte), so they come from a compiled library (same parameters, same
# values: tests check them against a bit-by-bit reference).
def crc16_x25(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/X-25 (CRC-ITU): poly 0x1021 reflected, init 0xFFFF, xorout 0xFFFF (GT06)."""
    return int(_crc16.ibm_sdlc(data))


def crc16_ibm(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/ARC (IBM): poly 0x8005 reflected, init 0, xorout 0 (Teltonika)."""
    return int(_crc16.arc(data))


def is_printable(data: bytes) -> bool:
    return all(32 <= b < 127 or b in (10, 13) for b in data)
