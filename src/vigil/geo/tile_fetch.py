"""Street tiles fetched on the server, for the maps drawn into PDFs and print views.

A map is drawn whole or not at all: every tile it needs must arrive within the time allowed, or
the map falls back to its plain background and says the street map is missing (half a street
map would mislead more than none). Tiles are cached in memory, so the maps of one evidence pack,
or of many packs about one area, ask the tile server once per tile. What the tile server sends
is checked like any other input: a PNG or JPEG of bounded size, or nothing.

The fetcher is installed once by bootstrap from the settings (as the audit key is), so the many
callers that draw a map do not each carry it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

import httpx

from vigil.geo.tiles import TileSource

MAX_TILE_BYTES = 1_000_000
_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclass(frozen=True)
class Tile:
    media_type: str
    data: bytes


def media_type(data: bytes) -> str | None:
    """The image type by its first bytes (a server's Content-Type is not believed)."""
    return next((kind for sig, kind in _SIGNATURES.items() if data.startswith(sig)), None)


class TileFetcher:
    def __init__(
        self,
        source: TileSource,
        *,
        timeout_s: float = 3.0,
        budget_s: float = 8.0,
        cache_tiles: int = 1024,
        rest_after_failure_s: float = 60.0,
    ) -> None:
        self.source = source
        self.timeout_s = timeout_s
        self.budget_s = budget_s
        self.cache_tiles = cache_tiles
        self.rest_after_failure_s = rest_after_failure_s
        self._resting_until = 0.0
        self._cache: OrderedDict[tuple[int, int, int], Tile] = OrderedDict()
        self._lock = Lock()

    def _cached(self, key: tuple[int, int, int]) -> Tile | None:
        with self._lock:
            tile = self._cache.get(key)
            if tile is not None:
                self._cache.move_to_end(key)
            return tile

    def _keep(self, key: tuple[int, int, int], tile: Tile) -> None:
        with self._lock:
            self._cache[key] = tile
            while len(self._cache) > self.cache_tiles:
                self._cache.popitem(last=False)

    def _fetch(self, client: httpx.Client, key: tuple[int, int, int], timeout: float) -> Tile:
        response = client.get(self.source.url(*key), timeout=timeout)
        response.raise_for_status()
        data = response.content
        kind = media_type(data)
        if kind is None or len(data) > MAX_TILE_BYTES:
            raise ValueError(f"tile {key} is not a PNG or JPEG under {MAX_TILE_BYTES} bytes")
        return Tile(kind, data)

    def tiles(self, keys: list[tuple[int, int, int]]) -> dict[tuple[int, int, int], Tile] | None:
        """Every tile asked for, from the cache or the server; None when any did not come in
        time or was not an image."""
        found: dict[tuple[int, int, int], Tile] = {}
        if time.monotonic() < self._resting_until:
            return None
        deadline = time.monotonic() + self.budget_s
        with httpx.Client(headers={"User-Agent": "Vigil evidence maps"}) as client:
            for key in keys:
                cached = self._cached(key)
                if cached is not None:
                    found[key] = cached
                    continue
                left = deadline - time.monotonic()
                try:
                    if left <= 0:
                        raise TimeoutError("the map's tiles took longer than allowed")
                    tile = self._fetch(client, key, min(self.timeout_s, left))
                except (httpx.HTTPError, ValueError, TimeoutError):
                    self._resting_until = time.monotonic() + self.rest_after_failure_s
                    return None
                self._keep(key, tile)
                found[key] = tile
        return found


_installed: list[TileFetcher] = []


def install(fetcher: TileFetcher | None) -> None:
    """The fetcher the server-drawn maps use from now on; None: they draw no street map."""
    _installed[:] = [fetcher] if fetcher is not None else []


def installed() -> TileFetcher | None:
    return _installed[0] if _installed else None
