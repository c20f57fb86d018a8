"""Commands to tags: "report faster" and "back to normal", in each protocol's own words.

The engine decides when a wearer's tag should report faster (a wearer in an exclusion zone's
buffer, a visit pending, a violation open: :meth:`vigil.engine.core.Engine.reporting_changes`).
This module says how that is put to each kind of device, and keeps the commands queued until the
device's connection can carry them, then sent, then acknowledged, each step logged:

* **Teltonika** (Codec 12 over the open TCP connection): ``setparam`` of the home-network data
  acquisition periods, 10000 (min period on stop), 10005 (send period on stop), 10050 (min period
  moving), 10055 (send period moving). The device answers with a Codec 12 response (type 0x06).
* **GT06 / Concox** (server command 0x80 over the open TCP connection): ``TIMER,<s>#``, the upload
  interval. The device answers with message 0x21 (or 0x15) carrying the server flag.
* **OwnTracks** (MQTT ``<topic>/cmd``): ``setConfiguration`` with ``locatorInterval`` and
  ``monitoring`` 2 (move mode), and ``reportLocation`` so the next fix comes at once. OwnTracks
  does not acknowledge commands; the next location it publishes is taken as the answer.
* **Traccar Client / OsmAnd** (HTTP requests from the phone): the server can only answer the
  phone's own requests, so it cannot be commanded. Such tags keep their own interval; the engine
  confirms on their fixes as they come (see docs/engine.md).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from vigil.gateways.command_words import (
    gt06_answer,
    gt06_frame,
    owntracks_commands_json,
    teltonika_answer,
    teltonika_frame,
    words,
)
from vigil.gateways.model import Session
from vigil.logs import get_logger

log = get_logger(__name__)

NORMAL_INTERVAL_S = 60
FAST_INTERVAL_S = 10


class CommandState(StrEnum):
    QUEUED = "queued"  # waiting for the device's connection
    SENT = "sent"  # written to the connection; no answer yet
    ACKNOWLEDGED = "acknowledged"  # the device answered
    UNSUPPORTED = "unsupported"  # the protocol cannot carry commands (OsmAnd)


@dataclass
class ReportingCommand:
    """One request to a tag to change how often it reports."""

    device_id: str
    fast: bool
    interval_s: int
    requested_at: datetime
    state: CommandState = CommandState.QUEUED
    protocol: str | None = None
    text: str = ""  # what was sent, in the protocol's words
    sent_at: datetime | None = None
    acknowledged_at: datetime | None = None
    answer: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "fast": self.fast,
            "interval_s": self.interval_s,
            "requested_at": self.requested_at.isoformat(),
            "state": self.state.value,
            "protocol": self.protocol,
            "text": self.text,
            "sent_at": None if self.sent_at is None else self.sent_at.isoformat(),
            "acknowledged_at": (
                None if self.acknowledged_at is None else self.acknowledged_at.isoformat()
            ),
            "answer": self.answer,
        }


# ---------------------------------------------------------------------------- the queue


@dataclass
class CommandQueue:
    """Commands per device, kept until the device's connection takes them, and their history.

    Only the newest wanted rate matters: a new request replaces one still queued for the same
    device. The history (bounded per device) is what the device page shows. The engine worker
    fills it from a thread while connections take from it on the event loop, hence the lock.
    """

    history_size: int = 20
    _queued: dict[str, ReportingCommand] = field(default_factory=dict)
    _history: dict[str, deque[ReportingCommand]] = field(default_factory=dict)
    _unacknowledged: dict[str, ReportingCommand] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def request(self, device_id: str, fast: bool, now: datetime) -> ReportingCommand:
        command = ReportingCommand(
            device_id, fast, FAST_INTERVAL_S if fast else NORMAL_INTERVAL_S, now
        )
        with self._lock:
            replaced = self._queued.get(device_id)
            self._queued[device_id] = command
            history = self._history.setdefault(device_id, deque(maxlen=self.history_size))
            history.append(command)
        log.info(
            "device.command_queued",
            device=device_id,
            fast=fast,
            interval_s=command.interval_s,
            replaced=replaced is not None,
        )
        return command

    def take(self, device_id: str, protocol: str, now: datetime) -> ReportingCommand | None:
        """The command waiting for ``device_id``, now sent over ``protocol`` (or refused)."""
        with self._lock:
            command = self._queued.pop(device_id, None)
        if command is None:
            return None
        command.protocol = protocol
        text = words(protocol, command.interval_s, command.fast)
        if text is None:
            command.state = CommandState.UNSUPPORTED
            log.info("device.command_unsupported", device=device_id, protocol=protocol)
            return command
        command.text = text
        command.state = CommandState.SENT
        command.sent_at = now
        with self._lock:
            self._unacknowledged[device_id] = command
        log.info("device.command_sent", device=device_id, protocol=protocol, text=text)
        return command

    def acknowledge(self, device_id: str, answer: str, now: datetime) -> ReportingCommand | None:
        with self._lock:
            command = self._unacknowledged.pop(device_id, None)
        if command is None:
            return None
        command.state = CommandState.ACKNOWLEDGED
        command.acknowledged_at = now
        command.answer = answer[:200]
        log.info("device.command_acknowledged", device=device_id, protocol=command.protocol)
        return command

    def waiting(self, device_id: str) -> bool:
        return device_id in self._queued

    def history(self, device_id: str) -> list[ReportingCommand]:
        with self._lock:
            return list(self._history.get(device_id, ()))


# ---------------------------------------------------------------------------- stream connections


def answered(
    queue: CommandQueue, protocol: str, session: Session, frame: bytes, now: datetime
) -> bool:
    """Is ``frame`` a device's answer to our command? If so it is acknowledged (not decoded)."""
    device = session.device_id
    if device is None:
        return False
    if protocol == "teltonika":
        text = teltonika_answer(frame)
    elif protocol == "gt06":
        flag = session.extras.get("command_flag")
        text = gt06_answer(frame, flag) if isinstance(flag, int) else None
    else:
        return False
    if text is None:
        return False
    queue.acknowledge(device, text, now)
    return True


def outgoing(queue: CommandQueue, protocol: str, session: Session, now: datetime) -> bytes:
    """The frame carrying the command waiting for this connection's device, or b""."""
    device = session.device_id
    if device is None or not queue.waiting(device):
        return b""
    command = queue.take(device, protocol, now)
    if command is None or command.state != CommandState.SENT:
        return b""
    if protocol == "teltonika":
        return teltonika_frame(command.text)
    if protocol == "gt06":
        flag = int(session.extras.get("command_flag", 0)) % 0xFFFFFFFF + 1
        session.extras["command_flag"] = flag
        return gt06_frame(command.text, flag, flag & 0xFFFF)
    return b""


# ---------------------------------------------------------------------------- OwnTracks over MQTT


def owntracks_outgoing(
    queue: CommandQueue, device: str, topic: str, now: datetime
) -> list[tuple[str, bytes]]:
    """(topic, payload) pairs to publish after a message from ``device`` on ``topic``.

    OwnTracks does not acknowledge commands: a message arriving after one was sent is taken as
    its answer. A command waiting for the device goes to ``owntracks/<user>/<device>/cmd``.
    """
    queue.acknowledge(device, "a message arrived after the command", now)
    if not queue.waiting(device):
        return []
    command = queue.take(device, "owntracks", now)
    if command is None or command.state != CommandState.SENT:
        return []
    base = "/".join(topic.split("/")[:3])
    return [
        (f"{base}/cmd", json.dumps(message).encode())
        for message in owntracks_commands_json(command.interval_s, command.fast)
    ]
