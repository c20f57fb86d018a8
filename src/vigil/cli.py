"""The ``vigil`` command: the process commands (migrate, serve, demo) and every part's own
commands as ``vigil <part> <verb>`` (``PARTS``)."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from vigil.bootstrap import Container, build_container
from vigil.db import migrate as migrations
from vigil.settings import Environment, Settings, ensure_demo_secrets

app = typer.Typer(help="Vigil: protect victims by watching the people who harmed them.")
console = Console(stderr=True)

# Every part's commands live in its own ``cli.py`` and are mounted as "vigil <part> <verb>".
PARTS: tuple[str, ...] = (
    "alerts",
    "bus",
    "contact",
    "engine",
    "evidence",
    "gateways",
    "geo",
    "harm",
    "links",
    "people",
    "security",
    "sim",
)
# The commands' names before they moved under their part; kept, hidden, for one release.
OLD_NAMES: tuple[tuple[str, str, str], ...] = (
    ("decode", "gateways", "decode"),
    ("replay", "engine", "replay"),
    ("user", "security", "user"),
    ("token", "security", "token"),
    ("audit", "security", "audit"),
)


def _part_app(part: str) -> typer.Typer:
    found: typer.Typer = importlib.import_module(f"vigil.{part}.cli").app
    return found


for _part in PARTS:
    app.add_typer(_part_app(_part), name=_part)

for _old, _part, _name in OLD_NAMES:
    _child = _part_app(_part)
    _command = next((c for c in _child.registered_commands if c.name == _name), None)
    if _command is not None and _command.callback is not None:
        app.command(
            _old,
            hidden=True,
            help=f"Old name of `vigil {_part} {_name}`.",
            context_settings=_command.context_settings,
        )(_command.callback)
    else:
        _group = next(g for g in _child.registered_groups if g.name == _name)
        assert _group.typer_instance is not None
        app.add_typer(_group.typer_instance, name=_old, hidden=True)


def _container() -> Container:
    return build_container(Settings())


@app.command()
def migrate() -> None:
    """Bring the database named by VIGIL_DATABASE_URL up to the latest schema."""
    settings = Settings()
    migrations.upgrade(settings.database_url)
    console.print("[green]Database is up to date.[/green]")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    roles: Annotated[
        str,
        typer.Option(
            help="What this process does: all, or some of web,gateways,engine,alerts. "
            "A process without web answers only /livez, /readyz and /metrics."
        ),
    ] = "all",
) -> None:
    """Serve the web app and API on the database from settings."""
    from vigil.runtime import parse_roles, run_server

    try:
        chosen = parse_roles(roles)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--roles") from exc
    run_server(_container(), host=host, port=port, roles=chosen)


# The demo's own file, so trying Vigil never touches the database a real `vigil serve` would use.
DEMO_DATABASE_URL = "sqlite:///./vigil-demo.db"


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            envvar="VIGIL_DATABASE_URL",
            help="Database for the demo: the VIGIL_DATABASE_URL setting when it is set.",
        ),
    ] = DEMO_DATABASE_URL,
) -> None:
    """Migrate and seed a local demo database, print the demo logins, and serve."""
    from vigil.runtime import run_server
    from vigil.sim.demo import seed_demo

    ensure_demo_secrets()
    settings = Settings(environment=Environment.DEMO, database_url=database_url)
    migrations.upgrade(settings.database_url)
    container = build_container(settings)
    logins = seed_demo(container)
    table = Table(title=f"Vigil demo on http://{host}:{port}", title_justify="left")
    for column in ("role", "username", "password"):
        table.add_column(column, no_wrap=True)
    for username, password, role in logins:
        table.add_row(role, username, password)
    console.print(table)
    run_server(container, host=host, port=port)
