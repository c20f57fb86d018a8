"""``vigil geo ...``: the postcode directory used to place exclusion zones by postcode."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.bootstrap import build_container
from vigil.errors import ValidationError
from vigil.geo import postcodes
from vigil.settings import Settings

app = typer.Typer(help="Geography: load the ONS Postcode Directory and look postcodes up.")


@app.command("load-postcodes")
def load_postcodes(
    path: Annotated[
        Path, typer.Argument(help="An ONS Postcode Directory CSV (full file or an extract).")
    ],
) -> None:
    """Load (or refresh) postcodes; terminated and coordinate-less rows are kept but marked."""
    if not path.is_file():
        typer.echo(f"file: {path} does not exist", err=True)
        raise typer.Exit(2)
    container = build_container(Settings())
    try:
        with container.uow() as uow:
            report = postcodes.load(uow, path, actor="cli")
            uow.commit()
    except ValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"{report.loaded} of {report.rows} postcodes loaded: {report.terminated} terminated, "
        f"{report.without_coordinates} without coordinates, {len(report.rejected)} refused."
    )
    for line, reason in report.rejected[:20]:
        typer.echo(f"  line {line}: {reason}", err=True)


@app.command("geocode")
def geocode(postcode: Annotated[str, typer.Argument(help="A postcode, e.g. 'SE1 2DL'.")]) -> None:
    """Where a postcode is, as the order editor would place a zone."""
    container = build_container(Settings())
    try:
        with container.uow() as uow:
            found = postcodes.geocode(uow, postcode)
    except ValidationError as exc:
        typer.echo(exc.reason, err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{found.display}: {found.lat:.6f}, {found.lon:.6f} ({found.police_force or '-'})")
