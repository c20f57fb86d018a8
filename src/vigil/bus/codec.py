"""Wire format for bus messages that leave the process (NATS): tagged JSON.

The bus knows no part's types: each part that sends its own dataclasses over the bus says how
(a tag, ``to_dict`` and ``from_dict``), and bootstrap registers them here. Plain dicts travel as
they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class CodecError(ValueError):
    pass


@dataclass(frozen=True)
class MessageType:
    tag: str
    kind: type
    to_dict: Callable[[Any], dict[str, Any]]
    from_dict: Callable[[dict[str, Any]], Any]


_BY_TAG: dict[str, MessageType] = {}
_BY_KIND: dict[type, MessageType] = {}


def register(message_type: MessageType) -> None:
    """Teach the bus one message type (idempotent: every container built registers again)."""
    _BY_TAG[message_type.tag] = message_type
    _BY_KIND[message_type.kind] = message_type


def encode(message: Any) -> bytes:
    if isinstance(message, dict):
        tagged = {"type": "json", "data": message}
    else:
        known = _BY_KIND.get(type(message))
        if known is None:
            raise CodecError(f"message: cannot send {type(message).__name__} over the bus")
        tagged = {"type": known.tag, "data": known.to_dict(message)}
    return json.dumps(tagged, separators=(",", ":"), default=str).encode()


def payload_of(message: Any) -> bytes:
    """A message's bytes for the dead-letter store: its wire form, or its repr if it has none."""
    try:
        return encode(message)
    except (CodecError, TypeError, ValueError):
        return repr(message).encode("utf-8", "backslashreplace")


def decode(payload: bytes) -> Any:
    try:
        tagged = json.loads(payload)
        kind, data = tagged["type"], tagged["data"]
        if kind == "json":
            return data
        known = _BY_TAG.get(kind)
        if known is not None:
            return known.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise CodecError(f"payload: not a bus message ({exc})") from exc
    raise CodecError(f"type: unknown message type {kind!r}")
