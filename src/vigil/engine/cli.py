"""``vigil replay SCENARIO.json FIXES.csv --out EVENTS.jsonl``: what-if analysis, test harness."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vigil.engine.replay import DEFAULT_CHUNK, read_fixes, read_scenario, replay, write_events
from vigil.errors import ValidationError

app = typer.Typer(help="The monitoring engine: replay recorded fixes (no server, no database).")
console = Console(stderr=True)


# Options may follow the two file arguments.
@app.command("replay", context_settings={"allow_interspersed_args": True})
def replay_command(
    scenario: Annotated[Path, typer.Argument(help="SCENARIO.json: persons, devices, conditions.")],
    fixes: Annotated[Path, typer.Argument(help="FIXES.csv in arrival order.")],
    out: Annotated[Path, typer.Option("--out", help="EVENTS.jsonl to write.")],
    trail: Annotated[
        Path | None,
        typer.Option(help="Also store the fixes in a SQLite trail store at this path."),
    ] = None,
    chunk: Annotated[
        int, typer.Option(min=1, help="Largest micro-batch, in rows.")
    ] = DEFAULT_CHUNK,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Replay FIXES.csv against SCENARIO.json and write one JSON line per violation or event."""
    began = time.perf_counter()
    try:
        plan = read_scenario(scenario)
        table = read_fixes(fixes)
    except ValidationError as exc:
        for error in exc.errors:
            console.print(f"[red]{error.field}: {error.reason}[/red]")
        raise typer.Exit(2) from exc
    sink = None
    if trail is not None and trail.exists() and trail.stat().st_size > 0:
        # The trail of a replay is evidence of that replay only: never mixed into another.
        console.print(f"[red]--trail: {trail} already exists; give a new file[/red]")
        raise typer.Exit(2)
    if trail is not None:
        from vigil.engine.trail import sqlite_sink

        sink = sqlite_sink(trail, plan)
    with Progress(
        TextColumn("[bold]replay[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
    ) as progress:
        task = progress.add_task("fixes", total=len(table))
        engine = replay(
            plan,
            table,
            chunk=chunk,
            sink=sink,
            progress=lambda rows: progress.advance(task, rows),
        )
    count = write_events(engine.ledger.episodes, out)
    elapsed = time.perf_counter() - began
    stats = engine.stats
    console.print(
        f"{len(table):,} fixes, {count:,} violations and events written to {out} in "
        f"{elapsed:.2f} s ({stats.late_fixes:,} late, {stats.unknown_devices:,} from unknown "
        "devices)."
    )
