"""Wiring, in one place: builds every part's long-lived objects, eagerly and typed.

This is the composition root: it may import any part, and no part imports it. Background
services and domain modules name the narrow protocol they need (``vigil.host.Host`` or a
part's own runtime); entrypoints (api, pages, cli) receive the ``Container``. Nothing is built at
import time.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass, field

from sqlalchemy import Engine, MetaData

from vigil.alerts.runtime import AlertsRuntime
from vigil.bus import codec
from vigil.bus.dead_letters import StoredDeadLetters
from vigil.bus.delivery import DeliveryPolicy, is_network_outage
from vigil.bus.memory import InMemoryBus
from vigil.bus.model import Bus, DeadLetterSink
from vigil.clock import Clock, SystemClock
from vigil.contact.checkport import CheckPortDeps
from vigil.contact.index import EnforcementIndex
from vigil.contact.ratelimit import public_limiter
from vigil.db.engine import build_engine, is_database_outage
from vigil.db.metadata import metadata
from vigil.db.uow import UnitOfWork
from vigil.engine import wire as event_wire
from vigil.engine.events import EngineEvent
from vigil.gateways.commands import CommandQueue
from vigil.gateways.metrics import GatewayMetrics
from vigil.geo import tile_fetch
from vigil.health import Heartbeats
from vigil.logs import configure_logging
from vigil.security import audit
from vigil.security.bearer import BearerTokens
from vigil.security.crypto import FieldCipher
from vigil.security.single_sign_on import IdentityProvider, configured_provider
from vigil.security.throttle import SharedRateLimiter
from vigil.settings import Settings
from vigil.supervisor import ServiceStates
from vigil.tracking import wire as fix_wire
from vigil.tracking.model import Fix

# Each part that owns tables lists its tables module here; Alembic and tests import them all.
TABLE_MODULES: tuple[str, ...] = (
    "vigil.security.tables",
    "vigil.contact.tables",
    "vigil.people.tables",
    "vigil.orders.tables",
    "vigil.devices.tables",
    "vigil.tracking.tables",
    "vigil.alerts.tables",
    "vigil.harm.tables",
    "vigil.evidence.tables",
    "vigil.engine.tables",
    "vigil.geo.postcodes",
    "vigil.bus.tables",
    "vigil.gateways.tables",
    "vigil.links.tables",
)


def load_all_tables() -> MetaData:
    """Import every part's tables so the one metadata is complete (for Alembic and tests)."""
    for module in TABLE_MODULES:
        importlib.import_module(module)
    return metadata


def register_bus_messages() -> None:
    """The parts' own message types the bus carries between processes."""
    codec.register(codec.MessageType(fix_wire.TAG, Fix, fix_wire.to_dict, fix_wire.from_dict))
    codec.register(
        codec.MessageType(event_wire.TAG, EngineEvent, event_wire.to_dict, event_wire.from_dict)
    )


@dataclass
class Container:
    settings: Settings
    engine: Engine
    clock: Clock
    cipher: FieldCipher
    bus: Bus
    alerts: AlertsRuntime
    enforcement_index: EnforcementIndex
    """The contact part's in-memory bars, one per process (loaded by its start-up service)."""
    public_form_limiter: SharedRateLimiter
    bearer_tokens: BearerTokens
    gateway_metrics: GatewayMetrics
    device_commands: CommandQueue
    """Commands for tags (report faster, back to normal): the engine fills it, doors send."""
    identity_provider: IdentityProvider | None = None
    """Single sign-on by OpenID Connect, when the settings name a provider."""
    heartbeats: Heartbeats = field(default_factory=Heartbeats)
    service_states: ServiceStates = field(default_factory=ServiceStates)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock)

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads: it never waits behind writers, and cannot commit."""
        return UnitOfWork(self.engine, self.clock, read_only=True)

    def check_port(self) -> CheckPortDeps:
        """What the prison systems' check port uses: the same pieces as the web app's route."""
        return CheckPortDeps(self.uow, self.enforcement_index, self.bearer_tokens, self.cipher)


def build_cipher(settings: Settings) -> FieldCipher:
    keys = settings.encryption_keys()
    if not keys:
        if not settings.is_relaxed:
            settings.check_secrets()
        # Development without configured keys: derive one from the secret so data stays readable
        # across restarts of the same development database.
        seed = settings.secret_key or "vigil-development-only"
        keys = {"dev": hashlib.sha256(seed.encode()).digest()}
    return FieldCipher(keys, index_key=(settings.secret_key or "vigil-development-only").encode())


def parse_partitions(spec: str, partitions: int) -> set[int] | None:
    """Parse "0-3,8" into {0, 1, 2, 3, 8}; empty means every partition."""
    if not spec.strip():
        return None
    owned: set[int] = set()
    for part in spec.split(","):
        low, _, high = part.strip().partition("-")
        owned.update(range(int(low), int(high or low) + 1))
    if not owned <= set(range(partitions)):
        raise ValueError(f"VIGIL_BUS_OWNED_PARTITIONS: partitions must be 0..{partitions - 1}")
    return owned


def build_bus(settings: Settings, dead_letters: DeadLetterSink) -> Bus:
    # A database that is down is an outage to wait out, not a reason to dead-letter a message.
    policy = DeliveryPolicy(is_outage=lambda exc: is_network_outage(exc) or is_database_outage(exc))
    if not settings.bus_url:
        return InMemoryBus(dead_letters=dead_letters, policy=policy)
    from vigil.bus.nats import NatsBus

    return NatsBus(
        settings.bus_url,
        partitions=settings.bus_partitions,
        owned_partitions=parse_partitions(settings.bus_owned_partitions, settings.bus_partitions),
        dead_letters=dead_letters,
        policy=policy,
        # Unless partitions are given out by hand, processes share them out among themselves.
        leased=True,
    )


def build_container(settings: Settings, clock: Clock | None = None) -> Container:
    settings.check_secrets()
    configure_logging(settings.log_level)
    load_all_tables()
    register_bus_messages()
    engine = build_engine(settings.database_url)
    audit.install_key(engine, audit.audit_key(settings.secret_key), settings.audit_unkeyed_until)
    tiles = settings.map_tiles
    tile_fetch.install(tile_fetch.TileFetcher(tiles) if tiles else None)
    time_source = clock or SystemClock()

    def uows() -> UnitOfWork:
        return UnitOfWork(engine, time_source)

    cipher = build_cipher(settings)
    bus = build_bus(settings, StoredDeadLetters(uows))
    return Container(
        settings=settings,
        engine=engine,
        clock=time_source,
        cipher=cipher,
        bus=bus,
        alerts=AlertsRuntime(
            uow=uows,
            bus=bus,
            clock=time_source,
            cipher=cipher,
            public_base_url=settings.public_base_url,
        ),
        enforcement_index=EnforcementIndex(cipher.blind_index),
        public_form_limiter=public_limiter(uows),
        bearer_tokens=BearerTokens(uows),
        gateway_metrics=GatewayMetrics(),
        device_commands=CommandQueue(),
        identity_provider=configured_provider(settings),
    )
