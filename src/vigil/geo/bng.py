"""British National Grid (EPSG:27700) ⇄ WGS84 (EPSG:4326) with pyproj.

pyproj picks the most accurate transformation it has. With the OSTN15 grid installed that is
centimetre-level; without it (the usual offline install) it is the published 7-parameter Helmert
fit, good to about 2 m across Great Britain — far inside any crime-matching radius. The tests
check the conversion against the ONS Postcode Directory, which carries both systems.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from pyproj import Transformer
from pyproj.transformer import TransformerGroup

# The grid's valid extent (metres); anything outside is not a British National Grid reference.
EASTING_RANGE = (0.0, 700_000.0)
NORTHING_RANGE = (0.0, 1_300_000.0)


def _best_available(source: str, target: str) -> Transformer:
    # The group is ordered best first; the warning only says a better grid could be installed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        group = TransformerGroup(source, target, always_xy=True)
    if not group.transformers:
        raise RuntimeError(f"pyproj has no transformation from {source} to {target}")
    transformer: Transformer = group.transformers[0]
    return transformer


@lru_cache(maxsize=1)
def _to_wgs84() -> Transformer:
    return _best_available("EPSG:27700", "EPSG:4326")


@lru_cache(maxsize=1)
def _to_bng() -> Transformer:
    return _best_available("EPSG:4326", "EPSG:27700")


def bng_to_wgs84(easting: float, northing: float) -> tuple[float, float]:
    """Return ``(lat, lon)`` for one grid reference."""
    lon, lat = _to_wgs84().transform(easting, northing)
    return float(lat), float(lon)


def wgs84_to_bng(lat: float, lon: float) -> tuple[float, float]:
    """Return ``(easting, northing)`` for one WGS84 position."""
    easting, northing = _to_bng().transform(lon, lat)
    return float(easting), float(northing)


def wgs84_to_bng_many(
    lats: NDArray[np.float64], lons: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vectorised form: ``(eastings, northings)``."""
    eastings, northings = _to_bng().transform(lons, lats)
    return np.asarray(eastings, dtype=np.float64), np.asarray(northings, dtype=np.float64)


def bng_to_wgs84_many(
    eastings: NDArray[np.float64], northings: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vectorised form: ``(lats, lons)``."""
    lons, lats = _to_wgs84().transform(eastings, northings)
    return np.asarray(lats, dtype=np.float64), np.asarray(lons, dtype=np.float64)


def transformation_description() -> str:
    """Which transformation was used, for the record of a matching run."""
    return str(_to_wgs84().description)
