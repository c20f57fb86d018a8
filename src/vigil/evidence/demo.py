"""Demo data for the evidence part: an example crime batch from West Midlands Police.

``seed(container)`` uploads, once, a headed CSV of burglaries and robberies around north
Birmingham (where the demo's Birmingham North wearers live) with windows over the day before the
demo starts, plus two deliberately bad rows so the row-error table has something to show. The
police login (``police.wmp``) sees it under Crime matching, runs it and reviews the matches of
its own force's wearers; the analyst may too, nationwide.
Wearers' fixes come from the live simulation, so matches appear for windows the simulation has
covered (re-upload or extend the windows once it has run for a while).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta
from zoneinfo import ZoneInfo

from vigil.evidence import crime_upload
from vigil.host import DemoHost
from vigil.security.model import Principal, Role

DEMO_FILENAME = "wmp-demo-batch.csv"
DEMO_SEED = 20260420
# Uploads on behalf of the force; recorded in the audit log under this name.
DEMO_POLICE = Principal(
    id=0,
    name="demo seed (West Midlands Police)",
    role=Role.POLICE,
    force_area="WMP",
    is_machine=True,
)
CENTRE = (52.4862, -1.8904)
TYPES = ("BURGLARY", "RB", "TFMV", "TOMV", "CDA")


def demo_batch(container: DemoHost, rows: int = 24) -> str:
    """The example batch as a headed CSV (UK local times)."""
    rng = random.Random(DEMO_SEED)
    tz = ZoneInfo(container.settings.timezone)
    now = container.clock.now().astimezone(tz).replace(minute=0, second=0, microsecond=0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["reference", "type", "from", "to", "lat", "lon"])
    for n in range(1, rows + 1):
        start = now - timedelta(hours=rng.randint(2, 26), minutes=rng.choice((0, 15, 30, 45)))
        end = start + timedelta(minutes=rng.choice((20, 40, 60, 90)))
        lat = CENTRE[0] + rng.uniform(-0.035, 0.035)
        lon = CENTRE[1] + rng.uniform(-0.05, 0.05)
        writer.writerow(
            [
                f"20WM/{n:05d}/26",
                rng.choice(TYPES),
                start.strftime("%Y-%m-%d %H:%M"),
                end.strftime("%Y-%m-%d %H:%M"),
                f"{lat:.6f}",
                f"{lon:.6f}",
            ]
        )
    # Two rows a real batch might carry, each rejected with its own reason.
    day = now.strftime("%Y-%m-%d")
    writer.writerow(["20WM/99001/26", "BURGLARY", f"{day} 03:00", f"{day} 02:00", "52.49", "-1.89"])
    writer.writerow(["20WM/99002/26", "FRAUD", f"{day} 01:00", f"{day} 01:30", "52.49", "-1.89"])
    return out.getvalue()


def seed(container: DemoHost) -> int | None:
    """Upload the example batch unless one is there already; returns its id (None if present)."""
    with container.uow() as uow:
        existing = crime_upload.list_batches(
            uow, Principal(id=0, name="demo", role=Role.ADMIN, is_machine=True)
        )
    if any(b["filename"] == DEMO_FILENAME for b in existing):
        return None
    with container.uow() as uow:
        summary = crime_upload.upload_batch(
            uow,
            DEMO_POLICE,
            demo_batch(container),
            filename=DEMO_FILENAME,
            reason="Demo: overnight burglaries and robberies, north Birmingham",
        )
        uow.commit()
    return summary.id
