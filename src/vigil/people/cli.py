"""``vigil people ...``: reference data and the prison register."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.bootstrap import build_container
from vigil.errors import ValidationError
from vigil.people import force_boundaries, prison_register, reference_data
from vigil.settings import Settings

app = typer.Typer(help="People: regions, force areas, teams and prisons.")


@app.command("seed-regions")
def seed_regions() -> None:
    """Add the probation regions and police force areas that are missing."""
    container = build_container(Settings())
    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
        uow.commit()
        typer.echo(
            f"{len(reference_data.list_regions(uow))} regions, "
            f"{len(reference_data.list_force_areas(uow))} force areas."
        )


@app.command("load-prisons")
def load_prisons(
    path: Annotated[
        Path, typer.Argument(help="Folder holding prison.tsv and prison-address.tsv.")
    ] = prison_register.BUNDLED_PRISON_REGISTER,
) -> None:
    """Load (or refresh) the prisons of England and Wales (by default the register Vigil ships)."""
    container = build_container(Settings())
    try:
        with container.uow() as uow:
            report = prison_register.load_prisons(uow, path, actor="cli")
            uow.commit()
    except ValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"{report.prisons} prisons loaded; {report.with_address} matched to one of "
        f"{report.addresses} addresses."
    )


@app.command("load-force-boundaries")
def load_force_boundaries(
    path: Annotated[
        Path, typer.Argument(help="The ONS Police Force Areas boundaries, as GeoJSON in WGS84.")
    ],
    name_property: Annotated[
        str, typer.Option(help="The property holding each force's name.")
    ] = "PFA23NM",
) -> None:
    """Load where each force area lies, so police users' crimes are checked against it."""
    container = build_container(Settings())
    try:
        with container.uow() as uow:
            report = force_boundaries.load(
                uow,
                path.read_bytes(),
                source=path.name[:200],
                name_property=name_property,
                actor="cli",
            )
            uow.commit()
    except ValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"{len(report.loaded)} force areas loaded ({', '.join(report.loaded) or 'none'}); "
        f"{len(report.skipped)} other forces in the file skipped."
    )
