"""The gateways as a background service: the device doors (TCP servers, the OsmAnd and OwnTracks
HTTP ports) and the MQTT subscriber. None of them is served on the web app's port."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from vigil.gateways import registry
from vigil.gateways.commands import CommandQueue
from vigil.gateways.directory import DeviceCheck, DeviceDirectory
from vigil.gateways.http_door import OSMAND, OWNTRACKS, HttpDoor
from vigil.gateways.intake import Intake
from vigil.gateways.metrics import GatewayMetrics
from vigil.gateways.mqtt import run_subscriber
from vigil.gateways.quarantine import Quarantine
from vigil.gateways.tcp import Limits, StreamGateway, parse_networks
from vigil.host import Host
from vigil.logs import get_logger
from vigil.text import ascii_digits

log = get_logger(__name__)


def parse_ports(text: str) -> dict[str, int]:
    """``"teltonika:5027,gt06:5023"`` → {"teltonika": 5027, ...}; leave a protocol out to disable
    it; port 0 asks the system for a free port (tests)."""
    ports: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, number = item.partition(":")
        protocol = registry.get(name.strip())
        if protocol.split_frames is None:
            raise ValueError(f"gateway_tcp_ports: {name} is not a TCP stream protocol")
        if not ascii_digits(number.strip()) or not 0 <= int(number) <= 65535:
            raise ValueError(f"gateway_tcp_ports: {item!r} needs a port number")
        ports[protocol.name] = int(number)
    return ports


def parse_hosts(text: str, default: str) -> dict[str, str]:
    """``"osmand=10.20.0.5,teltonika=10.30.0.5"`` → the address each door listens on; a door
    not named listens on ``default``."""
    doors = registry.protocols()
    hosts: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, host = (part.strip() for part in item.partition("="))
        if not host:
            raise ValueError(f"gateway_hosts: {item!r} needs door=address")
        if name not in doors:
            raise ValueError(f"gateway_hosts: no door {name!r}; doors: {', '.join(sorted(doors))}")
        hosts[name] = host
    return {name: hosts.get(name, default) for name in doors}


class GatewayHost(Host, Protocol):
    """What the doors need of their process: the common pieces, counters and tags' commands."""

    @property
    def gateway_metrics(self) -> GatewayMetrics: ...

    @property
    def device_commands(self) -> CommandQueue: ...


def intake_for(container: GatewayHost, devices: DeviceCheck) -> Intake:
    return Intake(container.bus, container.gateway_metrics, devices, Quarantine(container.uow))


@dataclass
class Running:
    servers: dict[str, asyncio.Server] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def port(self, name: str) -> int:
        sockets = self.servers[name].sockets
        return int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        for server in self.servers.values():
            server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for server in self.servers.values():
            await server.wait_closed()


async def start(container: GatewayHost, *, mqtt: bool = True) -> Running:
    settings = container.settings
    directory = DeviceDirectory(container.uow, settings.gateway_directory_refresh_s)
    # Known before the first device is heard: a door with an empty register refuses everyone.
    await directory.refresh()
    intake = intake_for(container, directory)
    running = Running()
    running.tasks.append(asyncio.create_task(directory.run()))
    hosts = parse_hosts(settings.gateway_hosts, settings.gateway_host)
    limits = Limits(idle_timeout_s=settings.gateway_idle_timeout_s)
    networks = parse_networks(settings.gateway_tcp_allowed_networks)
    for name, port in parse_ports(settings.gateway_tcp_ports).items():
        gateway = StreamGateway(
            registry.get(name),
            intake,
            container.clock,
            limits,
            container.device_commands,
            networks=networks,
        )
        await _listen(running, name, hosts[name], port, gateway.start)
    for door, port in (
        (OSMAND, settings.gateway_osmand_port),
        (OWNTRACKS, settings.gateway_owntracks_port),
    ):
        if port >= 0:
            http = HttpDoor(door, intake, container.clock)
            await _listen(running, door.name, hosts[door.name], port, http.start)
    if mqtt and settings.mqtt_url:
        subscriber = run_subscriber(
            settings.mqtt_url, intake, container.clock, commands=container.device_commands
        )
        running.tasks.append(asyncio.create_task(subscriber))
    return running


async def _listen(
    running: Running,
    name: str,
    host: str,
    port: int,
    start_door: Callable[[str, int], Awaitable[asyncio.Server]],
) -> None:
    try:
        running.servers[name] = await start_door(host, port)
    except OSError as exc:  # one busy port must not stop the others or the web app
        log.error("gateway.listen_failed", protocol=name, host=host, port=port, error=str(exc))
        return
    log.info("gateway.listening", protocol=name, host=host, port=running.port(name))


async def run(container: GatewayHost, stop: asyncio.Event) -> None:
    running = await start(container)
    try:
        await stop.wait()
    finally:
        await running.close()
