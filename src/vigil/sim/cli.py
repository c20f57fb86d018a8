"""``vigil sim ...``: generate simulated wearers' days for replay, benchmarks and tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vigil.sim.generate import simulate
from vigil.sim.model import SimConfig

app = typer.Typer(help="Simulated wearers, victims and movement.")
console = Console(stderr=True)


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Directory for SCENARIO.json, FIXES.csv, TRUTH.json.")],
    wearers: Annotated[int, typer.Option(min=1, max=100_000, help="How many wearers.")] = 10,
    days: Annotated[int, typer.Option(min=1, max=366, help="How many local days.")] = 1,
    seed: Annotated[int, typer.Option(help="Same seed, same output.")] = 1,
    start: Annotated[str, typer.Option(help="First local day, YYYY-MM-DD.")] = "2026-03-02",
    incident_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of wearer-days with a scripted incident.")
    ] = 0.25,
) -> None:
    """Simulate wearers' days: write the monitoring plan, the fixes in arrival order, and the
    ground truth of the scripted incidents."""
    try:
        first = date.fromisoformat(start)
    except ValueError as exc:
        raise typer.BadParameter("must be a date as YYYY-MM-DD", param_hint="--start") from exc
    config = SimConfig(
        wearers=wearers, days=days, seed=seed, start=first, incident_rate=incident_rate
    )
    with Progress(
        TextColumn("Simulating wearers"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("wearers", total=wearers)
        simulation = simulate(config, progress=lambda done: progress.update(task, completed=done))
    paths = simulation.write(out)
    console.print(
        f"{len(simulation.rows):,} device rows, {len(simulation.truth):,} scripted events "
        f"for {wearers} wearers over {days} day(s)."
    )
    for name, path in paths.items():
        console.print(f"  {name:<9} {path}")
