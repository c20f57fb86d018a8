"""``vigil security ...``: staff users, machine tokens and the audit log."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from vigil.bootstrap import Container, build_container
from vigil.errors import ValidationError
from vigil.security import audit, checkpoints, machine_tokens
from vigil.security import service as security_service
from vigil.security.model import Role
from vigil.settings import Settings

app = typer.Typer(help="Security: staff users, machine tokens, the audit log.")
user_app = typer.Typer(help="Manage staff users.")
token_app = typer.Typer(help="Manage machine API tokens.")
audit_app = typer.Typer(help="Check the audit log.")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
console = Console(stderr=True)


def _container() -> Container:
    return build_container(Settings())


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option(help="One of: " + ", ".join(r.value for r in Role))],
    team_id: Annotated[int | None, typer.Option(help="Team (probation officers).")] = None,
    force_area: Annotated[str | None, typer.Option(help="Force area code (police).")] = None,
    display_name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a staff user; the password is read from standard input."""
    password = sys.stdin.readline().rstrip("\n")
    container = _container()
    try:
        with container.uow() as uow:
            user_id = security_service.add_user(
                uow,
                username=name,
                password=password,
                role=role,
                team_id=team_id,
                force_area=force_area,
                display_name=display_name,
                actor="cli",
            )
            uow.commit()
    except ValidationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"User {name} added with id {user_id}.")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="Role the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")],
    days: Annotated[int, typer.Option(help="Days until it expires (at most 365).")] = 90,
) -> None:
    """Create a machine API token (device_gateway, prison_system) and print it once; only its
    hash is stored. People's roles get no token: they sign in."""
    container = _container()
    try:
        with container.uow() as uow:
            token = machine_tokens.create_token(
                uow,
                role=role,
                name=name,
                actor="cli",
                lifetime=timedelta(days=days),
            )
            uow.commit()
    except ValidationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    typer.echo(token)


@token_app.command("rotate")
def token_rotate(
    token_id: Annotated[int, typer.Argument(help="Id of the token to replace.")],
    days: Annotated[int, typer.Option(help="Days until the new one expires.")] = 90,
) -> None:
    """Print a new token for the same client; the old one stops working an hour later."""
    container = _container()
    try:
        with container.uow() as uow:
            token = machine_tokens.rotate_token(uow, token_id, "cli", lifetime=timedelta(days=days))
            uow.commit()
    except ValidationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    typer.echo(token)


@token_app.command("list")
def token_list() -> None:
    """Every token: id, name, role, when it expires or was revoked (never the token itself)."""
    container = _container()
    with container.uow() as uow:
        for t in machine_tokens.list_tokens(uow):
            typer.echo(
                f"{t.id}\t{t.name}\t{t.role}\texpires {t.expires_at or 'never'}"
                f"\trevoked {t.revoked_at or '-'}"
            )


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="Id of the token.")]) -> None:
    """Revoke a token at once (every process stops accepting it within seconds)."""
    container = _container()
    with container.uow() as uow:
        machine_tokens.revoke_token(uow, token_id, "cli")
        uow.commit()
    typer.echo(f"Token {token_id} revoked.")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's newest entry now and append it to VIGIL_AUDIT_CHECKPOINT_PATH."""
    container = _container()
    path = container.settings.audit_checkpoint_path.strip()
    if not path:
        console.print("[red]VIGIL_AUDIT_CHECKPOINT_PATH is not set[/red]")
        raise typer.Exit(2)
    with container.engine.connect() as connection:
        point = checkpoints.write(connection, container.settings, Path(path), container.clock.now())
    typer.echo(f"Checkpoint written: entry {point.last_id} of {point.entries}.")


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the keyed hash chain, then hold it against the latest signed checkpoint: names the
    first entry altered, and reports truncation or recomputation."""
    container = _container()
    path = container.settings.audit_checkpoint_path.strip()
    with container.engine.connect() as connection:
        report = audit.verify(connection)
        problem = None
        if report.intact and path:
            try:
                point = checkpoints.latest(container.settings, Path(path))
            except checkpoints.CheckpointError as exc:
                problem = str(exc)
            else:
                problem = None if point is None else checkpoints.compare(connection, point)
    if problem is not None:
        typer.echo(f"Audit log BROKEN: {problem}")
        raise typer.Exit(1)
    if report.intact:
        suffix = " (checked against the latest signed checkpoint)" if path else ""
        typer.echo(f"Audit log intact: {report.entries} entries{suffix}.")
        return
    typer.echo(f"Audit log BROKEN at entry {report.first_broken_id}: {report.reason}")
    _advise_on_an_unkeyed_start(container, report)
    raise typer.Exit(1)


def _advise_on_an_unkeyed_start(container: Container, report: audit.ChainReport) -> None:
    """A log begun by a Vigil from before the keyed chain fails where its old entries start."""
    with container.engine.connect() as connection:
        unkeyed = audit.unkeyed_prefix(connection)
    broken = report.first_broken_id or 0
    if unkeyed and container.settings.audit_unkeyed_until < broken <= unkeyed + 1:
        typer.echo(
            f"Entries 1 to {unkeyed} carry the unkeyed hashes an older Vigil wrote. If they were"
            f" written before this installation was upgraded, set VIGIL_AUDIT_UNKEYED_UNTIL="
            f"{unkeyed} (in the environment, not the database) and verify again."
        )
