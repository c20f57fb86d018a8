"""The demo's postcode directory, so "Find postcode" in the order editor works in the demo.

It is the ONS Postcode Directory extract the tests use (tests/fixtures/postcodes, Open
Government Licence): every AB1x postcode of Aberdeen and a few in London (SE1 2DL) and
Manchester. The demo pilot's own streets are made up, so no real postcode is theirs. A real
installation loads the full directory with ``vigil geo load-postcodes``.
"""

from __future__ import annotations

from pathlib import Path

from vigil.geo import postcodes
from vigil.host import DemoHost

# In the source checkout `make demo` runs from; an installed package without it has no demo
# directory, and the editor says look-up is not available.
EXTRACT = Path(__file__).resolve().parents[3] / "tests/fixtures/postcodes/onspd-extract.csv"


def seed(container: DemoHost) -> int:
    """Load the extract unless a directory is loaded already; how many postcodes were loaded."""
    with container.uow() as uow:
        if postcodes.count(uow) or not EXTRACT.is_file():
            return 0
        report = postcodes.load(uow, EXTRACT, actor="demo")
        uow.commit()
    return report.loaded
