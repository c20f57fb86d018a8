"""``vigil bus dead-letters list|show|replay``: what no handler could take, and sending it again."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from vigil.bootstrap import build_container
from vigil.bus import dead_letters
from vigil.errors import NotFound
from vigil.security.model import SYSTEM
from vigil.settings import Settings

app = typer.Typer(help="The message bus: dead letters.")
letters_app = typer.Typer(help="Messages no handler could take, kept with their bytes and error.")
app.add_typer(letters_app, name="dead-letters")
console = Console()


@letters_app.command("list")
def list_command(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 50,
) -> None:
    """List dead letters, newest first."""
    container = build_container(Settings())
    with container.uow() as uow:
        letters = dead_letters.list_dead_letters(uow, SYSTEM, limit)
    table = Table(title=f"{len(letters)} dead letter(s)", title_justify="left")
    for column in ("id", "topic", "failed at (UTC)", "status", "error"):
        table.add_column(column)
    for letter in letters:
        table.add_row(
            str(letter.id),
            letter.topic,
            letter.failed_at.isoformat(timespec="seconds"),
            letter.status,
            letter.error[:80],
        )
    console.print(table)


@letters_app.command("show")
def show_command(letter_id: int) -> None:
    """Show one dead letter: its error and its bytes as they were kept."""
    container = build_container(Settings())
    try:
        with container.uow() as uow:
            letter = dead_letters.get_dead_letter(uow, SYSTEM, letter_id)
    except NotFound as exc:
        console.print(f"[red]No dead letter {letter_id}.[/red]")
        raise typer.Exit(1) from exc
    console.print(f"Dead letter {letter.id} on {letter.topic}, {letter.status}")
    console.print(f"Failed at {letter.failed_at.isoformat()}: {letter.error}")
    console.print(letter.payload.decode("utf-8", "backslashreplace"), markup=False)


@letters_app.command("replay")
def replay_command(letter_ids: list[int]) -> None:
    """Ask the running Vigil to publish these dead letters again (within a few seconds)."""
    container = build_container(Settings())
    try:
        with container.uow() as uow:
            for letter_id in letter_ids:
                dead_letters.request_replay(uow, SYSTEM, letter_id)
            uow.commit()
    except NotFound as exc:
        console.print(f"[red]{exc}: nothing was asked for.[/red]")
        raise typer.Exit(1) from exc
    console.print(f"Replay asked for {len(letter_ids)} dead letter(s).")
