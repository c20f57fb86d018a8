"""Partition leases: which engine process consumes which bus partitions, decided by the processes
themselves, so a dead process's wearers are taken over without anyone reconfiguring anything.

Built on a NATS key-value bucket whose entries expire ``ttl_s`` after their last write:

- each process keeps a ``<group>.member.<id>`` key alive; the live members are the keys that
  exist (a group is one handler's consumers: the engines share fixes, the alert consumers share
  engine events, each group dividing the partitions among its own members);
- a partition is meant for the member that ranks highest for it (rendezvous hashing, so each
  member gets a fair share and a member joining or leaving moves only its own share);
- a process holds a partition while it keeps ``<group>.partition.<n>`` written with its id: it
  creates the key when free, renews it while it is meant for it, and deletes it when it is not
  (after it stopped consuming). A process that dies stops renewing; its keys expire, and the
  members that rank next take its partitions within ``ttl_s`` plus one renewal.

Consumers are durable per partition (see ``bus.nats``), so the new holder resumes after the last
acknowledged message.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError, NoKeysError
from nats.js.kv import KeyValue

from vigil.bus.model import LeaseView
from vigil.logs import get_logger

log = get_logger(__name__)

OnChange = Callable[[set[int]], Awaitable[None]]


def rank(member: str, partition: int) -> bytes:
    return hashlib.sha256(f"{member}/{partition}".encode()).digest()


def meant_for(members: list[str], partitions: int) -> dict[int, str]:
    """Each partition's member: the one that ranks highest for it."""
    return {p: max(members, key=lambda m: rank(m, p)) for p in range(partitions)}


class PartitionLeases:
    def __init__(
        self,
        js: JetStreamContext,
        *,
        bucket: str,
        group: str,
        member: str,
        partitions: int,
        ttl_s: float = 10.0,
        renew_s: float = 3.0,
    ) -> None:
        self.js = js
        self.bucket = bucket
        self.group = group
        self.member = member
        self.partitions = partitions
        self.ttl_s = ttl_s
        self.renew_s = renew_s
        self.held: set[int] = set()
        self.changes = 0
        # Since when (monotonic) each partition has had no holder at all, as last listed.
        self._unheld_since: dict[int, float] = {}
        self._revisions: dict[int, int] = {}
        self._kv: KeyValue | None = None

    def view(self, now: float | None = None) -> LeaseView:
        """A takeover needs the dead holder's lease to expire and one renewal round: a partition
        unheld for longer than that is one nobody is consuming."""
        now = time.monotonic() if now is None else now
        grace = self.ttl_s + 2 * self.renew_s
        stale = {p for p, since in self._unheld_since.items() if now - since > grace}
        return LeaseView(self.group, frozenset(self.held), frozenset(stale), self.changes)

    def _note_holders(self, keys: list[str]) -> None:
        prefix = f"{self.group}.partition."
        present = {int(key.removeprefix(prefix)) for key in keys if key.startswith(prefix)}
        now = time.monotonic()
        for partition in range(self.partitions):
            if partition in present or partition in self.held:
                self._unheld_since.pop(partition, None)
            else:
                self._unheld_since.setdefault(partition, now)
        unconsumed = sorted(self.view(now).unconsumed)
        if unconsumed:
            log.warning("bus.partitions_unconsumed", group=self.group, partitions=unconsumed)

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            config = KeyValueConfig(bucket=self.bucket, ttl=self.ttl_s, history=1)
            self._kv = await self.js.create_key_value(config=config)
        return self._kv

    async def _members(self, kv: KeyValue) -> list[str]:
        prefix = f"{self.group}.member."
        await kv.put(prefix + self.member, b"alive")
        try:
            # Every key, filtered here: servers before 2.10 cannot filter (a few dozen keys).
            keys = await kv.keys()
        except NoKeysError:  # only possible if ours expired between the two calls
            keys = []
        self._note_holders(keys)
        members = {key.removeprefix(prefix) for key in keys if key.startswith(prefix)}
        members.add(self.member)
        return sorted(members)

    async def _take(self, kv: KeyValue, partition: int) -> bool:
        key = f"{self.group}.partition.{partition}"
        revision = self._revisions.get(partition)
        try:
            if revision is None:
                self._revisions[partition] = await kv.create(key, self.member.encode())
            else:
                self._revisions[partition] = await kv.update(key, self.member.encode(), revision)
            return True
        except KeyWrongLastSequenceError:
            self._revisions.pop(partition, None)
        if revision is None:
            return False  # someone else holds it until it lets go or its lease expires
        # Our own lease expired meanwhile (NATS was away longer than its life): take it afresh
        # if no one else has, rather than dropping the partition for a round.
        try:
            self._revisions[partition] = await kv.create(key, self.member.encode())
            return True
        except KeyWrongLastSequenceError:
            return False

    async def _release(self, kv: KeyValue, partition: int) -> None:
        self._revisions.pop(partition, None)
        with contextlib.suppress(KeyNotFoundError):
            await kv.delete(f"{self.group}.partition.{partition}")

    async def renew(self, on_change: OnChange) -> None:
        """One round: renew, take what is meant for us and free, let go of what is not."""
        kv = await self._bucket()
        members = await self._members(kv)
        mine = {p for p, m in meant_for(members, self.partitions).items() if m == self.member}
        now_held = {p for p in sorted(mine) if await self._take(kv, p)}
        losing = self.held - now_held
        if now_held != self.held:
            # Stop consuming what we are losing before anyone else may start on it.
            await on_change(now_held)
            for partition in losing:
                await self._release(kv, partition)
            self.changes += 1
            log.info(
                "bus.partitions_changed",
                group=self.group,
                member=self.member,
                members=len(members),
                held=sorted(now_held),
            )
        self.held = now_held

    async def run(self, on_change: OnChange, stop: asyncio.Event) -> None:
        """Renew every ``renew_s`` until ``stop``; then let go of everything at once."""
        alive = asyncio.create_task(self._stay_a_member(stop))
        try:
            await self._renew_until(on_change, stop)
        finally:
            alive.cancel()
            await asyncio.gather(alive, return_exceptions=True)
        if self.held:
            await on_change(set())
            kv = await self._bucket()
            for partition in sorted(self.held):
                await self._release(kv, partition)
            self.held = set()

    async def _renew_until(self, on_change: OnChange, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.renew(on_change)
            except Exception as exc:  # NATS away: keep what we have; leases expire if it lasts
                log.warning(
                    "bus.lease_renewal_failed", group=self.group, member=self.member, error=str(exc)
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.renew_s)

    async def _stay_a_member(self, stop: asyncio.Event) -> None:
        """Keep the member key alive on its own clock. A renewal round waits for ``on_change``
        (an engine loading its wearers, seconds under load); had the member key waited with it,
        it could expire while the process is busy taking partitions, the others would count it
        gone and take its share, and the shares would swing back and forth."""
        key = f"{self.group}.member.{self.member}"
        while not stop.is_set():
            with contextlib.suppress(Exception):  # NATS away: the renewal round says so
                await (await self._bucket()).put(key, b"alive")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.renew_s)
