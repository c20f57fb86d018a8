"""Street maps under the zones: the configured tile source and the tile maths.

A tile source is an XYZ template (``https://tiles.example/{z}/{x}/{y}.png``, an OpenStreetMap
server the organisation runs) or a WMTS template in a Web Mercator tile matrix set (the OS Maps
API's ``...tileMatrix=EPSG:3857:{TileMatrix}&tileRow={TileRow}&tileCol={TileCol}``). Both are
kept as one XYZ template, so the browser maps (Leaflet) and the PDF maps read the same thing.

The settings are checked once, at start-up: a source that cannot work, or one that would send
officers' map views over plain http in production, stops Vigil starting with the reason.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import urlsplit

# WMTS names for the same three numbers, as the OGC standard spells them in a ResourceURL.
_WMTS_NAMES = {"{TileMatrix}": "{z}", "{TileCol}": "{x}", "{TileRow}": "{y}"}
_XYZ = ("{z}", "{x}", "{y}")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")
MAX_ATTRIBUTION = 300
# Web Mercator's latitude limit: tiles cover no more of the globe.
MAX_LATITUDE = 85.0511287798


@dataclass(frozen=True)
class TileSource:
    """Where street tiles come from: an XYZ template, the words the provider requires shown
    with them, the deepest zoom it serves, and its origin (for the Content-Security-Policy)."""

    template: str
    attribution: str
    max_zoom: int

    @property
    def origin(self) -> str:
        parts = urlsplit(self.template)
        return f"{parts.scheme}://{parts.netloc}"

    def url(self, z: int, x: int, y: int) -> str:
        return self.template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))

    def for_browser(self) -> BrowserTiles:
        """What vigil-map.js needs to draw the tiles (Leaflet's option names)."""
        return {"url": self.template, "attribution": self.attribution, "maxZoom": self.max_zoom}


class BrowserTiles(TypedDict):
    """The tile source in Leaflet's option names."""

    url: str
    attribution: str
    maxZoom: int


def _as_xyz(url: str) -> str:
    """The template with WMTS names replaced by {z}/{x}/{y}; ValueError when it is neither."""
    wmts = [name for name in _WMTS_NAMES if name in url]
    xyz = [name for name in _XYZ if name in url]
    if wmts and xyz:
        raise ValueError("mixes XYZ ({z}/{x}/{y}) and WMTS ({TileMatrix}...) placeholders")
    if wmts:
        if len(wmts) < len(_WMTS_NAMES):
            raise ValueError("a WMTS template needs {TileMatrix}, {TileCol} and {TileRow}")
        for name, replacement in _WMTS_NAMES.items():
            url = url.replace(name, replacement)
    elif len(xyz) < len(_XYZ):
        raise ValueError("must contain {z}, {x} and {y} (or WMTS {TileMatrix}/{TileCol}/{TileRow})")
    unknown = sorted(set(_PLACEHOLDER.findall(url)) - set(_XYZ))
    if unknown:
        raise ValueError(f"has placeholders Vigil does not fill: {', '.join(unknown)}")
    return url


def tile_source(
    url: str, attribution: str, max_zoom: int, *, production: bool
) -> TileSource | None:
    """The configured source, or None when no URL is set; ValueError naming the setting and the
    reason when the settings cannot be used."""
    url = url.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("VIGIL_MAP_TILES_URL must be an https:// address with a host")
    if production and parts.scheme != "https":
        raise ValueError("VIGIL_MAP_TILES_URL must be https:// in production")
    if "{" in parts.netloc:
        raise ValueError("VIGIL_MAP_TILES_URL: one tile host, no {s} subdomains in the host")
    # The origin goes into the Content-Security-Policy: a plain host and port, nothing else.
    if not _HOST.fullmatch(parts.netloc) or any(c.isspace() for c in url):
        raise ValueError("VIGIL_MAP_TILES_URL: a plain host name and port, no spaces or user:pass@")
    try:
        template = _as_xyz(url)
    except ValueError as exc:
        raise ValueError(f"VIGIL_MAP_TILES_URL {exc}") from exc
    text = " ".join(attribution.split())
    if not text:
        raise ValueError(
            "VIGIL_MAP_TILES_ATTRIBUTION is required with VIGIL_MAP_TILES_URL "
            "(the tile provider's copyright notice, shown on every map)"
        )
    if len(text) > MAX_ATTRIBUTION:
        raise ValueError(f"VIGIL_MAP_TILES_ATTRIBUTION is longer than {MAX_ATTRIBUTION} characters")
    return TileSource(template=template, attribution=text, max_zoom=max_zoom)


def tile_xy(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    """Where a point falls in the Web Mercator tile grid at ``zoom``, in tiles (fractional)."""
    n = 2**zoom
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def tile_corner(x: int, y: int, zoom: int) -> tuple[float, float]:
    """The (lat, lon) of a tile's top-left corner."""
    n = 2**zoom
    lon = x / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    return lat, lon


def zoom_for(metres_per_pixel: float, lat: float, max_zoom: int) -> int:
    """The zoom whose tiles are drawn closest to their own size at this scale."""
    at_zoom_0 = 2 * math.pi * 6_378_137.0 * math.cos(math.radians(lat)) / 256
    wanted = math.log2(at_zoom_0 / max(metres_per_pixel, 1e-6))
    return max(0, min(max_zoom, round(wanted)))
