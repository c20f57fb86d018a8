"""The one place protocols are registered. Adding a protocol = one module + one line here.

A protocol module exposes ``NAME`` and ``decode(payload, session, receive_time) -> Decoded``;
a stream protocol also exposes ``split_frames(buffer) -> (frames, junk_bytes)`` and is served
over TCP; ``BINARY`` protocols take hex on the ``vigil decode`` command line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from vigil.gateways.model import Decoded, DecodeError, Session

PROTOCOL_MODULES: tuple[str, ...] = (
    "vigil.gateways.osmand",
    "vigil.gateways.owntracks",
    "vigil.gateways.teltonika",
    "vigil.gateways.gt06",
    "vigil.gateways.watch",
)

Decoder = Callable[[bytes, Session, datetime], Decoded]
Framer = Callable[[bytearray], tuple[list[bytes], int]]


@dataclass(frozen=True)
class Protocol:
    name: str
    decode: Decoder
    split_frames: Framer | None
    binary: bool
    # A captured payload holds several frames (GT06, watch) rather than one message (Teltonika).
    payload_is_stream: bool


@cache
def protocols() -> dict[str, Protocol]:
    found: dict[str, Protocol] = {}
    for module_name in PROTOCOL_MODULES:
        module = importlib.import_module(module_name)
        framer = getattr(module, "split_frames", None)
        found[module.NAME] = Protocol(
            name=module.NAME,
            decode=module.decode,
            split_frames=framer,
            binary=getattr(module, "BINARY", module.NAME in ("teltonika", "gt06")),
            payload_is_stream=framer is not None and module.NAME != "teltonika",
        )
    return found


def get(name: str) -> Protocol:
    try:
        return protocols()[name]
    except KeyError as exc:
        known = ", ".join(sorted(protocols()))
        raise DecodeError("unknown_protocol", f"{name!r}; known: {known}") from exc


def decode_capture(
    name: str, payload: bytes, session: Session, receive_time: datetime
) -> list[Decoded]:
    """Decode a captured payload (one message, or several frames of a stream)."""
    protocol = get(name)
    if protocol.payload_is_stream and protocol.split_frames is not None:
        buffer = bytearray(payload)
        frames, junk = protocol.split_frames(buffer)
        if buffer and not frames:
            # A capture cut short (no terminator): decode what there is; its CRC will fail.
            frames = [bytes(buffer)]
        if not frames:
            raise DecodeError("bad_frame", f"no complete frame ({junk} junk bytes)")
        return [protocol.decode(frame, session, receive_time) for frame in frames]
    return [protocol.decode(payload, session, receive_time)]
