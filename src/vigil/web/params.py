"""Types for numbers that arrive in paths, query strings and forms.

Python's ``int`` has no upper bound but every store's key does: an id past 64 bits must be a 422
naming the field, not an overflow deep in the database driver.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from pydantic import AllowInfNan

MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Ge(0), Le(MAX_ROW_ID)]

# Floats from outside are finite and within what the question can mean: NaN compares false with
# every bound, and a duration of 1e16 seconds overflows a timedelta.
Latitude = Annotated[float, AllowInfNan(False), Ge(-90), Le(90)]
Longitude = Annotated[float, AllowInfNan(False), Ge(-180), Le(180)]
# A search radius or an accuracy cut-off: up to a city's width.
Metres = Annotated[float, AllowInfNan(False), Ge(0), Le(50_000)]
# A time window or gap: up to a year.
Seconds = Annotated[float, AllowInfNan(False), Ge(0), Le(366 * 24 * 3600)]
Minutes = Annotated[float, AllowInfNan(False), Ge(0), Le(366 * 24 * 60)]
