"""``vigil links ...``: find which prisoner and which matrix person each registry person is."""

from __future__ import annotations

import typer

from vigil.bootstrap import build_container
from vigil.links import service
from vigil.security.model import SYSTEM
from vigil.settings import Settings

app = typer.Typer(help="Links: one perpetrator known as one person across the services.")


@app.command("find")
def find(
    person: int | None = typer.Option(None, help="One registry person's id; all when omitted."),
) -> None:
    """Link registry persons to the prisoner register and the harm matrix.

    An id both records hold (prison number, police id) links at once; a name and date of birth
    close enough is proposed for a person to confirm on the person's page.
    """
    container = build_container(Settings())
    with container.uow() as uow:
        report = service.find_person_links(uow, SYSTEM, person)
        uow.commit()
    typer.echo(
        f"{report.persons} persons looked at: {report.confirmed} new links by id, "
        f"{report.proposed} likenesses proposed for confirmation."
    )
