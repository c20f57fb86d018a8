"""Demo data: a simulated West and East Midlands incident history and a computed matrix."""

from __future__ import annotations

from datetime import date, timedelta

from vigil.errors import NotFound
from vigil.harm import service
from vigil.harm.simulate import WEST_AND_EAST_MIDLANDS, SimulationSpec, simulate
from vigil.host import DemoHost

DEMO_PERPETRATORS = 1500


def seed(container: DemoHost) -> int:
    """Import the simulated history (idempotent) and make sure a run exists; returns its id."""
    today = container.clock.now().date()
    spec = SimulationSpec(
        perpetrators=DEMO_PERPETRATORS,
        start=date(today.year - 4, 1, 1),
        end=today - timedelta(days=1),
        forces=WEST_AND_EAST_MIDLANDS,
        seed=2024,
    )
    content = simulate(spec).write_csv().encode()
    with container.uow() as uow:
        service.import_incidents(
            uow, container.cipher, content, filename="demo-incidents.csv", actor="demo"
        )
    with container.uow() as uow:
        try:
            return service.get_run(uow).id
        except NotFound:
            pass
        # Two runs a month apart, so the page has something to show under "what changed".
        as_of = service.as_of_start(today)
        service.compute_run(uow, as_of=as_of - timedelta(days=28), actor="demo")
        return service.compute_run(uow, as_of=as_of, actor="demo")
