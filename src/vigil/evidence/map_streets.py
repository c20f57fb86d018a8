"""The street map under a server-drawn map (SVG for pages and PDFs), from the installed tile
fetcher (vigil.geo.tile_fetch).

Each tile is placed by projecting its own corners, so the Web Mercator tiles sit under the
map's local projection to well under a pixel at the scale of a town. The tiles travel inside the
SVG as data, so the PDF a court receives needs no network. Without a tile source the map keeps
its plain background; when the tile server fails the map says so, in the map itself.
"""

from __future__ import annotations

import base64
import math
from html import escape
from typing import Protocol

from vigil.geo import tile_fetch
from vigil.geo.tiles import tile_corner, tile_xy, zoom_for

MAX_TILES = 48  # a map of a town needs a dozen; more means a zoom too deep for the page
UNAVAILABLE = "Street map unavailable: the tile server did not answer"


class Projected(Protocol):
    scale: float  # pixels per metre

    def xy(self, lat: float, lon: float) -> tuple[float, float]: ...

    def latlon(self, x: float, y: float) -> tuple[float, float]: ...


TileKey = tuple[int, int, int]


def _keys(proj: Projected, width: int, height: int, max_zoom: int) -> list[TileKey]:
    """The tiles that cover the map, at the zoom closest to the map's own scale (shallower
    when that would take too many)."""
    north, west = proj.latlon(0, 0)
    south, east = proj.latlon(width, height)
    zoom = zoom_for(1 / proj.scale, (north + south) / 2, max_zoom)
    while True:
        left, top = tile_xy(north, west, zoom)
        right, bottom = tile_xy(south, east, zoom)
        last = 2**zoom - 1
        xs = range(max(0, math.floor(left)), min(last, math.floor(right)) + 1)
        ys = range(max(0, math.floor(top)), min(last, math.floor(bottom)) + 1)
        if len(xs) * len(ys) <= MAX_TILES or zoom == 0:
            return [(zoom, x, y) for y in ys for x in xs]
        zoom -= 1


def _image(proj: Projected, key: TileKey, tile: tile_fetch.Tile) -> str:
    zoom, x, y = key
    x0, y0 = proj.xy(*tile_corner(x, y, zoom))
    x1, y1 = proj.xy(*tile_corner(x + 1, y + 1, zoom))
    data = base64.b64encode(tile.data).decode("ascii")
    # Half a pixel of overlap: tiles that only touch show hairline seams once anti-aliased.
    return (
        f'<image x="{x0}" y="{y0}" width="{x1 - x0 + 0.5:.1f}" height="{y1 - y0 + 0.5:.1f}" '
        f'preserveAspectRatio="none" href="data:{tile.media_type};base64,{data}"/>'
    )


def _note(text: str, width: int, height: int) -> str:
    """A line of small text on a white band at the map's foot, right (the scale bar is left)."""
    y = height - 17
    return (
        f'<rect x="{width - 6 - 5.2 * len(text):.0f}" y="{y}" width="{5.2 * len(text) + 4:.0f}" '
        f'height="13" fill="#ffffff" fill-opacity="0.85"/><text x="{width - 4}" y="{y + 10}" '
        f'font-size="9" text-anchor="end" fill="#0b0c0c">{escape(text)}</text>'
    )


def street_background(proj: Projected, width: int, height: int) -> str:
    """SVG for the tiles under the map and their credits; a note when they could not be had;
    nothing when no tile source is configured."""
    fetcher = tile_fetch.installed()
    if fetcher is None:
        return ""
    keys = _keys(proj, width, height, fetcher.source.max_zoom)
    tiles = fetcher.tiles(keys)
    if tiles is None:
        return _note(UNAVAILABLE, width, height)
    clip = f"vigil-tiles-{width}x{height}"  # same size, same clip: a repeat id is harmless
    images = "".join(_image(proj, key, tiles[key]) for key in keys)
    return (
        f'<clipPath id="{clip}"><rect width="{width}" height="{height}"/></clipPath>'
        f'<g clip-path="url(#{clip})" data-street-map="tiles">{images}</g>'
        + _note(fetcher.source.attribution, width, height)
    )
