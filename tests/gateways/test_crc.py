"""The CRCs the binary protocols use agree with a bit-by-bit reference of their definitions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vigil.gateways.binary import crc16_ibm, crc16_x25


def _reflected_crc16(data: bytes, poly: int, init: int, xorout: int) -> int:
    """The textbook bitwise CRC with reflected input and output: slow, and obviously right."""
    crc = init
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc ^ xorout


def test_the_crcs_give_their_catalogue_check_values() -> None:
    # The "check" value of each algorithm in the CRC catalogue is its CRC of b"123456789".
    assert crc16_x25(b"123456789") == 0x906E
    assert crc16_ibm(b"123456789") == 0xBB3D


@given(st.binary(max_size=2048), st.integers(0, 16))
def test_the_crcs_match_the_bitwise_definition_on_any_bytes_and_views(
    data: bytes, skip: int
) -> None:
    view = memoryview(data)[skip:]
    tail = data[skip:]
    assert crc16_x25(view) == _reflected_crc16(tail, 0x8408, 0xFFFF, 0xFFFF)
    assert crc16_ibm(view) == _reflected_crc16(tail, 0xA001, 0x0000, 0x0000)
    assert crc16_ibm(bytearray(tail)) == crc16_ibm(tail)
