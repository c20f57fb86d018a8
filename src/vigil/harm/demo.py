"""Demo data: a simulated West and East Midlands incident history and a computed matrix."""

from __future__ import annotations

from datetime import date, timedelta

from vigil.errors import NotFound
from vigil.harm.incident_import import import_incidents
from vigil.harm.runs import as_of_start, compute_run, get_run
from vigil.harm.simulate import WEST_AND_EAST_MIDLANDS, SimulationSpec, simulate
from vigil.host import DemoHost
from vigil.security.model import Principal, Role

DEMO_PERPETRATORS = 1500
DEMO_ANALYST = Principal(id=0, name="demo", role=Role.ANALYST, is_machine=True)


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
        import_incidents(
            uow, container.cipher, content, filename="demo-incidents.csv", principal=DEMO_ANALYST
        )
        uow.commit()
    with container.uow() as uow:
        try:
            return get_run(uow, DEMO_ANALYST).id
        except NotFound:
            pass
        # Two runs a month apart, so the page has something to show under "what changed".
        as_of = as_of_start(today)
        compute_run(uow, as_of=as_of - timedelta(days=28), principal=DEMO_ANALYST)
        run_id = compute_run(uow, as_of=as_of, principal=DEMO_ANALYST)
        uow.commit()
        return run_id
