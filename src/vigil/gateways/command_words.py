"""Reporting commands in each protocol's own words: the frames sent and the answers recognised.

What each protocol is told, and how its answer looks, is described in
:mod:`vigil.gateways.commands`, which queues the commands and hands these words to the connections.
"""

from __future__ import annotations

import json
from typing import Any

from vigil.gateways.binary import crc16_ibm, crc16_x25

TELTONIKA_PERIODS = (10000, 10005, 10050, 10055)
GT06_COMMAND = 0x80
GT06_ANSWERS = (0x21, 0x15)
CODEC_12 = 0x0C


def teltonika_text(interval_s: int) -> str:
    return "setparam " + ";".join(f"{param}:{interval_s}" for param in TELTONIKA_PERIODS)


def teltonika_frame(text: str) -> bytes:
    """A Codec 12 GPRS command: preamble, length, codec, 1 command of type 5, CRC-16/IBM."""
    command = text.encode("ascii")
    body = bytes((CODEC_12, 1, 0x05)) + len(command).to_bytes(4, "big") + command + bytes((1,))
    return (
        b"\x00\x00\x00\x00"
        + len(body).to_bytes(4, "big")
        + body
        + crc16_ibm(body).to_bytes(4, "big")
    )


def teltonika_answer(frame: bytes) -> str | None:
    """The text of a Codec 12 response (type 6) if ``frame`` is one with a good CRC, else None."""
    if len(frame) < 19 or frame[:4] != b"\x00\x00\x00\x00" or frame[8] != CODEC_12:
        return None
    size = int.from_bytes(frame[4:8], "big")
    body = frame[8 : 8 + size]
    if len(body) != size or frame[10] != 0x06 or len(frame) < 12 + size:
        return None
    if crc16_ibm(body) != int.from_bytes(frame[8 + size : 12 + size], "big"):
        return None
    length = int.from_bytes(frame[11:15], "big")
    return frame[15 : 15 + length].decode("ascii", "replace")


def gt06_text(interval_s: int) -> str:
    return f"TIMER,{interval_s}#"


def gt06_frame(text: str, server_flag: int, serial: int) -> bytes:
    """A GT06 server command (0x80): command length, server flag, ASCII command, serial, CRC."""
    command = text.encode("ascii")
    content = bytes((4 + len(command),)) + server_flag.to_bytes(4, "big") + command
    body = bytes((5 + len(content), GT06_COMMAND)) + content + serial.to_bytes(2, "big")
    return b"\x78\x78" + body + crc16_x25(body).to_bytes(2, "big") + b"\r\n"


def gt06_answer(frame: bytes, server_flag: int) -> str | None:
    """The device's reply text if ``frame`` answers the command sent with ``server_flag``.

    Layout: 78 78, length L (protocol to CRC), protocol, content, serial (2), CRC (2), 0D 0A.
    Content of 0x21: server flag (4), encoding (1), text; of 0x15: length (1), server flag, text.
    """
    if len(frame) < 5 or frame[:2] != b"\x78\x78" or frame[3] not in GT06_ANSWERS:
        return None
    size = frame[2]
    if len(frame) < 3 + size or size < 10:
        return None
    if crc16_x25(frame[2 : 1 + size]) != int.from_bytes(frame[1 + size : 3 + size], "big"):
        return None
    content = frame[4 : size - 1]
    flag, text = (content[0:4], content[5:]) if frame[3] == 0x21 else (content[1:5], content[5:])
    if int.from_bytes(flag, "big") != server_flag:
        return None
    return text.decode("ascii", "replace")


def owntracks_commands_json(interval_s: int, fast: bool) -> list[dict[str, Any]]:
    """``cmd`` messages for ``<base topic>/cmd``: the interval, and a fix now when speeding up."""
    configure = {
        "_type": "cmd",
        "action": "setConfiguration",
        "configuration": {
            "_type": "configuration",
            "locatorInterval": interval_s,
            "monitoring": 2 if fast else 1,
        },
    }
    messages: list[dict[str, Any]] = [configure]
    if fast:
        messages.append({"_type": "cmd", "action": "reportLocation"})
    return messages


def words(protocol: str, interval_s: int, fast: bool) -> str | None:
    """A reporting command in ``protocol``'s own words, or None if it cannot be commanded."""
    if protocol == "teltonika":
        return teltonika_text(interval_s)
    if protocol == "gt06":
        return gt06_text(interval_s)
    if protocol == "owntracks":
        return json.dumps(owntracks_commands_json(interval_s, fast))
    if protocol == "sim":
        return f"interval {interval_s}"
    return None  # osmand, watch: no command channel
