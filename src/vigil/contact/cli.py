"""``vigil contact ...``: load the prisoner register; encrypt notices stored in plain text; re-key
barred addresses stored before flats were read from "2/14 High St"."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.bootstrap import build_container
from vigil.contact import address_keys, notifications, register
from vigil.errors import ValidationError
from vigil.settings import Settings

app = typer.Typer(help="Unwanted prisoner contact service.")

MAX_REGISTER_BYTES = 200 * 1024 * 1024


@app.command("import-prisoners")
def import_prisoners(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: prison_number, forenames, surname, aliases "
            "(;-separated), date_of_birth, establishment, "
            "release_date"
        ),
    ],
) -> None:
    """Load or update the prisoner register; a bad row stops the import and is named."""
    if not file.is_file():
        typer.echo(f"file: {file} does not exist", err=True)
        raise typer.Exit(2)
    if file.stat().st_size > MAX_REGISTER_BYTES:
        typer.echo(f"file: larger than {MAX_REGISTER_BYTES} bytes", err=True)
        raise typer.Exit(2)
    container = build_container(Settings())
    try:
        with container.uow() as uow:
            count = register.import_prisoners(
                uow, file.read_text(encoding="utf-8-sig"), actor="cli"
            )
            uow.commit()
    except ValidationError as exc:
        for error in exc.errors[:20]:
            typer.echo(f"{error.field}: {error.reason}", err=True)
        raise typer.Exit(2) from exc
    except UnicodeDecodeError as exc:
        typer.echo("file: is not UTF-8 text", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"Imported {count} prisoners.")


@app.command("seal-notices")
def seal_notices() -> None:
    """Encrypt notice bodies that an earlier version stored in plain text (once, after upgrading;
    running it again finds nothing to do)."""
    container = build_container(Settings())
    with container.uow() as uow:
        count = notifications.seal_plaintext_notices(uow, container.cipher, actor="cli")
        uow.commit()
    typer.echo(f"Encrypted {count} notices.")


@app.command("rekey-addresses")
def rekey_addresses() -> None:
    """Re-derive barred addresses stored before "2/14 High St" was read as flat 2 at number 14
    (once, after upgrading; running it again finds nothing to do)."""
    container = build_container(Settings())
    with container.uow() as uow:
        count = address_keys.rekey_flat_addresses(uow, container.cipher, actor="cli")
        uow.commit()
    typer.echo(f"Re-keyed {count} barred addresses.")
