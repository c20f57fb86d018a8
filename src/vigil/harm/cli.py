"""``vigil harm ...``: import, rank, backtest, simulate, load a harm table, merge/split."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from vigil.bootstrap import Container, build_container
from vigil.errors import NotFound, ValidationError
from vigil.harm.backtest import backtest
from vigil.harm.decisions import merge, split
from vigil.harm.file_frame import resolved_frame
from vigil.harm.harm_table import replace_harm_table
from vigil.harm.importer import parse_incidents
from vigil.harm.incident_import import import_incidents
from vigil.harm.matrix import matrix
from vigil.harm.model import RANKING_COLUMNS, PartyRole, ScoringConfig
from vigil.harm.progress import Progress as StageReport
from vigil.harm.runs import STORE_LIMIT, as_of_start, compute_run, incidents_frame
from vigil.harm.scoring import ranking_table
from vigil.harm.simulate import SimulationSpec, simulate
from vigil.security.model import Principal, Role
from vigil.settings import Settings

app = typer.Typer(help="High-harm perpetrator matrix: import, rank, backtest, simulate.")
console = Console(stderr=True)
# The CLI runs as an analyst: an operator on the server is trusted with the matrix.
CLI_ANALYST = Principal(id=0, name="cli", role=Role.ANALYST, is_machine=True)


def _container() -> Container:
    return build_container(Settings())


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("as-of: must be a date (YYYY-MM-DD)") from exc


@contextmanager
def _progress(title: str) -> Iterator[StageReport]:
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task(title)

        def step(stage: str) -> None:
            progress.update(task, description=f"{title}: {stage}")

        yield step


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]{exc}[/red]")
    return typer.Exit(2)


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise _fail(ValidationError("file", f"{path} does not exist"))
    return path.read_bytes()


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="Incidents CSV (header required).")],
) -> None:
    """Import incidents; bad rows are listed (row, field, reason), good rows are kept."""
    content = _read(file)
    container = _container()
    try:
        with _progress("Importing") as step, container.uow() as uow:
            report = import_incidents(
                uow,
                container.cipher,
                content,
                filename=file.name,
                principal=CLI_ANALYST,
                progress=step,
            )
            uow.commit()
    except ValidationError as exc:
        raise _fail(exc) from exc
    for error in report.errors[:200]:
        console.print(f"[yellow]{error}[/yellow]")
    if len(report.errors) > 200:
        console.print(f"[yellow]... and {len(report.errors) - 200} more row errors[/yellow]")
    if report.unknown_offence_groups:
        console.print(
            "[yellow]Not in the harm index (scored as 0 days): "
            + ", ".join(report.unknown_offence_groups)
            + "[/yellow]"
        )
    typer.echo(
        f"{report.total} rows: {report.added} added, {report.unchanged} unchanged, "
        f"{report.rejected} rejected; {report.suspects.persons} perpetrators, "
        f"{report.victims.persons} victims."
    )


def _write(frame: pl.DataFrame, out: Path | None) -> None:
    table = frame.select(RANKING_COLUMNS)
    if out is None:
        typer.echo(table.write_csv(), nl=False)
    else:
        table.write_csv(out)
        console.print(f"Wrote {table.height} rows to {out}.")


@app.command("rank")
def rank_command(
    file: Annotated[
        Path | None, typer.Argument(help="Incidents CSV; without it, the stored incidents.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Score incidents before this date (default: today)."),
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="How many to list.")] = 100,
    out: Annotated[
        Path | None, typer.Option(help="CSV to write (default standard output).")
    ] = None,
    force: Annotated[str | None, typer.Option(help="Rank within one force.")] = None,
) -> None:
    """Write the ranked matrix: rank,person_id,score,...,explanation."""
    # Today is read when the command runs, not when the module is imported.
    when = as_of_start(_as_of(as_of or date.today().isoformat()))
    config = ScoringConfig()
    if file is not None:
        _write(_rank_file(file, when, config, top, force), out)
        return
    container = _container()
    with _progress("Ranking stored incidents") as step, container.uow() as uow:
        run_id = compute_run(uow, as_of=when, principal=CLI_ANALYST, config=config, progress=step)
        rows = matrix(uow, CLI_ANALYST, run_id, force=force, top=min(top, STORE_LIMIT))
        uow.commit()
    frame = pl.DataFrame(
        [
            {
                "rank": r.rank,
                "person_id": r.person_id,
                "score": r.score,
                "recency_days": r.recency_days,
                "frequency": r.frequency,
                "gravity": r.gravity,
                "victims": r.victims,
                "serial": r.serial,
                "escalating": r.escalating,
                "explanation": r.explanation,
            }
            for r in rows
        ],
        schema={
            c: (pl.Utf8 if c in ("person_id", "explanation") else None) for c in RANKING_COLUMNS
        },
    )
    console.print(f"Stored as run {run_id}.")
    _write(frame, out)


def _rank_file(
    file: Path, when: datetime, config: ScoringConfig, top: int, force: str | None
) -> pl.DataFrame:
    """Rank an incident file in memory, without storing it."""
    content = _read(file)
    with _progress("Ranking") as step:
        try:
            step("checking rows")
            parsed = parse_incidents(content, when)
        except ValidationError as exc:
            raise _fail(exc) from exc
        for error in parsed.errors[:50]:
            console.print(f"[yellow]{error}[/yellow]")
        step("resolving")
        from vigil.harm.harm_index import default_index

        frame = resolved_frame(parsed.rows, default_index())
        step("scoring")
        return ranking_table(frame, when, config, top=top, force=force)


@app.command("backtest")
def backtest_command(
    as_of: Annotated[
        str, typer.Option("--as-of", help="Score before this date, follow 12 months.")
    ],
    file: Annotated[Path | None, typer.Option(help="Incidents CSV instead of stored data.")] = None,
) -> None:
    """Share of next-year harm caused by the top N, and the AUC for 'caused further harm'."""
    when = as_of_start(_as_of(as_of))
    with _progress("Backtesting") as step:
        if file is not None:
            step("resolving")
            from vigil.harm.harm_index import default_index

            try:
                parsed = parse_incidents(_read(file), when.replace(year=when.year + 2))
            except ValidationError as exc:
                raise _fail(exc) from exc
            frame = resolved_frame(parsed.rows, default_index())
        else:
            container = _container()
            step("reading incidents")
            with container.uow() as uow:
                frame = incidents_frame(uow)
        step("scoring")
        result = backtest(frame, when)
    table = Table(title=f"Backtest as of {when.date()} (follow-up {result.follow_up_days} days)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("perpetrators ranked", f"{result.ranked:,}")
    table.add_row("caused further harm", f"{result.reoffended:,}")
    table.add_row("AUC (caused further harm)", "n/a" if result.auc is None else f"{result.auc:.3f}")
    for share in result.shares:
        table.add_row(
            f"top {share.top}: share of all next-year harm", f"{share.share_of_all_harm:.1%}"
        )
        table.add_row(
            f"top {share.top}: share of ranked people's harm", f"{share.share_of_ranked_harm:.1%}"
        )
    Console().print(table)


@app.command("simulate")
def simulate_command(
    out: Annotated[Path, typer.Option(help="CSV to write.")],
    perpetrators: Annotated[int, typer.Option(min=1, max=2_000_000)] = 2000,
    seed: Annotated[int, typer.Option()] = 7,
    start: Annotated[str, typer.Option(help="First date of the history.")] = "2021-01-01",
    end: Annotated[str, typer.Option(help="Last date of the history.")] = "2025-12-31",
) -> None:
    """Write a simulated incident history (see vigil.harm.simulate for the model)."""
    spec = SimulationSpec(
        perpetrators=perpetrators, seed=seed, start=_as_of(start), end=_as_of(end)
    )
    if spec.end <= spec.start:
        raise _fail(ValidationError("end", "must be after start"))
    with _progress("Simulating"):
        frame = simulate(spec)
    frame.write_csv(out)
    console.print(f"Wrote {frame.height:,} incidents by {perpetrators:,} perpetrators to {out}.")


@app.command("load-index")
def load_index_command(
    file: Annotated[
        Path, typer.Argument(help="Harm table, CSV or XLSX (offence/offence_group, harm_days).")
    ],
) -> None:
    """Replace the per-offence harm table (layered over the default subgroup table)."""
    container = _container()
    try:
        with container.uow() as uow:
            count = replace_harm_table(uow, _read(file), filename=file.name, principal=CLI_ANALYST)
            uow.commit()
    except ValidationError as exc:
        raise _fail(exc) from exc
    typer.echo(f"Loaded {count} harm index entries from {file.name}.")


@app.command("merge")
def merge_command(
    identity_a: int,
    identity_b: int,
    reason: Annotated[str, typer.Option(help="Why these records are the same person.")],
    role: Annotated[PartyRole, typer.Option()] = PartyRole.SUSPECT,
) -> None:
    """Join two records into one person by hand (audited)."""
    container = _container()
    try:
        with container.uow() as uow:
            key = merge(
                uow,
                container.cipher,
                role=role,
                identity_a=identity_a,
                identity_b=identity_b,
                reason=reason,
                principal=CLI_ANALYST,
            )
            uow.commit()
    except (ValidationError, NotFound) as exc:
        raise _fail(exc) from exc
    typer.echo(f"Records {identity_a} and {identity_b} are now person {key}.")


@app.command("split")
def split_command(
    identity: int,
    reason: Annotated[str, typer.Option(help="Why this record is someone else.")],
    role: Annotated[PartyRole, typer.Option()] = PartyRole.SUSPECT,
) -> None:
    """Take a record out of its person by hand (audited)."""
    container = _container()
    try:
        with container.uow() as uow:
            key = split(
                uow,
                container.cipher,
                role=role,
                identity_id=identity,
                reason=reason,
                principal=CLI_ANALYST,
            )
            uow.commit()
    except (ValidationError, NotFound) as exc:
        raise _fail(exc) from exc
    typer.echo(f"Record {identity} now stands alone as person {key}.")
