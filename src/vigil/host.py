"""What a part's background service may ask of the process it runs in.

Services name the narrow protocol they use (this one, or one extending it with the part's own
pieces) instead of importing the composition root; ``vigil.bootstrap.Container`` satisfies every
such protocol, and tests may hand in anything else that does.
"""

from __future__ import annotations

from typing import Protocol

from vigil.bus.model import Bus
from vigil.clock import Clock
from vigil.db.uow import UnitOfWork
from vigil.health import Heartbeats
from vigil.security.crypto import FieldCipher
from vigil.settings import Settings


class Host(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def bus(self) -> Bus: ...

    @property
    def heartbeats(self) -> Heartbeats: ...

    def uow(self) -> UnitOfWork: ...


class DemoHost(Protocol):
    """What a part's demo seeder needs: its data goes in through the part's own use cases."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def cipher(self) -> FieldCipher: ...

    def uow(self) -> UnitOfWork: ...
