"""Street tiles under the server-drawn maps (evidence packs, weekly overviews, crime matches),
from a real tile server on loopback: drawn into the SVG and into the PDF WeasyPrint makes of it,
each tile fetched once; the tile server failing leaves the plain map and a note saying so; no
tile source leaves today's map."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

import pytest

from tests.evidence.test_pack import OPERATOR, make_violation
from tests.tile_server import TILE_COLOUR, TileServer, tile_server
from vigil.bootstrap import Container
from vigil.evidence import pack, packs
from vigil.evidence.map_streets import UNAVAILABLE
from vigil.evidence.maps import Circle, MapSpec, Point, render_svg, zone_shapes
from vigil.evidence.render import render_pdf
from vigil.geo import tile_fetch
from vigil.geo.tiles import tile_source

ZONE = Circle(52.472259, -1.797393, 400.0, "Victim's home")
SPEC = MapSpec(
    title="During the violation",
    circles=[ZONE, Circle(ZONE.lat, ZONE.lon, 650.0, "", "buffer")],
    trail=[(52.468, -1.80), (52.471, -1.798)],
    points=[Point(52.471, -1.798, "14:02", 12.0, "highlight")],
)


@pytest.fixture
def tiles() -> Iterator[TileServer]:
    """The tile server, and the fetcher that bootstrap would install for it."""
    with tile_server() as server:
        source = tile_source(server.template, "Test tiles © Vigil", 19, production=False)
        assert source is not None
        tile_fetch.install(tile_fetch.TileFetcher(source))
        try:
            yield server
        finally:
            tile_fetch.install(None)


def test_the_map_is_drawn_over_the_streets_with_their_credits(tiles: TileServer) -> None:
    svg = render_svg(SPEC)
    images = re.findall(r'<image [^>]*href="data:image/png;base64,', svg)
    assert len(images) == len(tiles.requests) >= 4
    assert "Test tiles © Vigil" in svg
    assert svg.index("<image") < svg.index("<circle")  # the streets under the zones
    zooms = {z for z, _x, _y in tiles.requests}
    assert zooms == {15}  # 640 px over about 2.3 km: the zoom whose tiles keep their size

    render_svg(SPEC)
    assert len(tiles.requests) == len(images)  # the second map of the area is drawn from cache


def _page(svg: str) -> str:
    return f"<!doctype html><html><body><h1>Map</h1>{svg}</body></html>"


def _unfilter(data: bytes, width: int) -> bytes:
    """RGB pixels from PNG-predicted rows (a filter byte, then the row's differences)."""
    stride = width * 3
    previous = bytearray(stride)
    pixels = bytearray()
    for start in range(0, len(data), stride + 1):
        kind, row = data[start], bytearray(data[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = row[i - 3] if i >= 3 else 0
            up, corner = previous[i], previous[i - 3] if i >= 3 else 0
            guess = left + up - corner
            paeth = min((abs(guess - left), 0, left), (abs(guess - up), 1, up))
            paeth = min(paeth, (abs(guess - corner), 2, corner))
            row[i] = (row[i] + (0, left, up, (left + up) // 2, paeth[2])[kind]) % 256
        pixels += row
        previous = row
    return bytes(pixels)


def _images(pdf: bytes) -> list[bytes]:
    """The pixels of every image in the PDF (WeasyPrint writes them Flate-compressed, rows
    PNG-predicted)."""
    found = []
    for header, stream in re.findall(rb"<<(.*?)>>\s*stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        if b"/Subtype /Image" in header and b"/FlateDecode" in header:
            width = int(re.search(rb"/Width (\d+)", header).group(1))  # type: ignore[union-attr]
            found.append(_unfilter(zlib.decompress(stream), width))
    return found


def test_the_pdf_carries_the_tiles(tiles: TileServer) -> None:
    pdf = render_pdf(_page(render_svg(SPEC)))
    images = _images(pdf)
    assert images, "no image in the PDF"
    assert any(bytes(TILE_COLOUR) * 64 in pixels for pixels in images)


def test_a_failing_tile_server_leaves_the_plain_map_and_says_so(tiles: TileServer) -> None:
    tiles.failing = True
    svg = render_svg(SPEC)
    assert "<image" not in svg
    assert UNAVAILABLE in svg
    assert 'fill="#f8f8f8"' in svg  # the plain background, the zones and the scale bar remain
    assert "<circle" in svg
    pdf = render_pdf(_page(svg))
    assert _images(pdf) == []


def test_without_a_tile_source_the_map_is_as_before() -> None:
    tile_fetch.install(None)
    svg = render_svg(SPEC)
    assert "<image" not in svg
    assert UNAVAILABLE not in svg
    assert 'fill="#f8f8f8"' in svg


def test_a_polygon_zone_is_drawn_with_its_warning_buffer() -> None:
    tile_fetch.install(None)
    square = [[-1.80, 52.47], [-1.79, 52.47], [-1.79, 52.476], [-1.80, 52.476], [-1.80, 52.47]]
    condition = {
        "type": "exclusion_zone",
        "geometry": {"type": "Polygon", "coordinates": [square]},
        "buffer_m": 250,
    }
    circles, polygons = zone_shapes(condition, "Town centre")
    assert circles == []
    [zone, buffer] = polygons
    assert (zone.kind, buffer.kind) == ("exclusion", "buffer")
    west = min(lon for lon, _lat in buffer.rings[0])
    south = min(lat for _lon, lat in buffer.rings[0])
    # 250 m beyond the zone's west and south edges (a degree of longitude is 67.9 km there).
    assert (-1.80 - west) * 67_900 == pytest.approx(250, abs=2)
    assert (52.47 - south) * 111_195 == pytest.approx(250, abs=2)
    svg = render_svg(MapSpec(title="Zone", polygons=polygons))
    assert 'stroke-dasharray="6 4"' in svg  # the buffer's dashed outline


def test_an_evidence_pack_pdf_carries_the_street_tiles(
    container: Container, tiles: TileServer
) -> None:
    # The container comes first: building it installs its settings' fetcher (none), which the
    # tile server's fixture then replaces.
    person, episode, _ids = make_violation(container)
    with container.uow() as uow:
        result = packs.create_pack(
            uow, OPERATOR, container.settings, person_id=person, violation_id=episode,
            reason="Recall request to the court",
        )  # fmt: skip
        uow.commit()
    check = pack.verify(result.document, packs.trusted_keys(container.settings))
    pdf = packs.pack_pdf(result.document, check)
    assert tiles.requests, "the pack's maps asked for no tile"
    assert any(bytes(TILE_COLOUR) * 64 in pixels for pixels in _images(pdf))
