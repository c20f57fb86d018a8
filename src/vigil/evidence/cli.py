"""``vigil evidence ...``: verify an evidence pack, match a crime file offline, weekly overviews."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from vigil.evidence import pack

app = typer.Typer(help="Evidence: verify packs, weekly overviews.")


@app.command("verify")
def verify(
    file: Annotated[
        Path, typer.Argument(help="An evidence pack as handed out: the signed JSON or its PDF.")
    ],
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="The database whose stored packs name this system's keys "
            "(default: the VIGIL_DATABASE_URL setting).",
        ),
    ] = None,
) -> None:
    """Say whether an evidence pack is intact and who signed it (exit 1 if not intact,
    3 if intact but signed by a key this system does not know). A PDF is checked by the signed
    pack attached to it."""
    from pydantic import ValidationError

    from vigil.evidence import pack, pack_file, pack_trust
    from vigil.settings import Settings

    try:
        handed = pack_file.read_handed_in(file.read_bytes())
    except OSError as exc:
        typer.echo(f"Cannot read {file}: {exc.strerror}")
        raise typer.Exit(2) from exc
    except pack_file.NotAPack as exc:
        typer.echo(f"NOT INTACT: {exc}")
        raise typer.Exit(1) from exc
    try:
        settings: Settings | None = Settings()
    except ValidationError:  # settings this machine cannot read: trust only the database
        settings = None
    result = pack.verify(handed.pack, pack_trust.configured_keys(settings) if settings else {})
    if result.intact and not result.trusted:
        _trust_from_database(result, database_url or (settings.database_url if settings else ""))
    if handed.from_pdf:
        typer.echo("The evidence pack attached to this PDF (the pages are a rendering of it):")
    typer.echo(result.summary())
    if not result.intact:
        raise typer.Exit(1)
    if not result.trusted:
        raise typer.Exit(3)


def _trust_from_database(result: pack.Verification, url: str) -> None:
    """Trust the key when the database's stored packs were signed with it. Where no database is
    set up but the demo's is here (a pack from ``vigil demo``, checked in its folder), the
    demo's database answers, and the output says so."""
    from vigil.cli import DEMO_DATABASE_URL
    from vigil.evidence import pack_trust

    key_id, public_key = result.key_id or "", result.public_key or ""
    recorded, problem = pack_trust.database_keys(url, key_id, public_key)
    if problem.startswith("no database"):
        in_demo, _ = pack_trust.database_keys(DEMO_DATABASE_URL, key_id, public_key)
        if in_demo:
            recorded, problem = in_demo, ""
            typer.echo("(This system's key is known from the packs in the demo's database.)")
    result.trust(recorded)
    if problem and not result.trusted:
        typer.echo(f"(This system's keys were not read from its database: {problem}.)")
