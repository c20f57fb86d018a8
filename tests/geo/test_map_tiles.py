"""Street tiles: the settings checked at start-up (XYZ or WMTS, https in production, the
provider's notice required), the tile maths, fetching on the server from a real tile server on
loopback (cached, checked, and given up on whole when the server fails), and the
Content-Security-Policy letting images come from the tile server alone."""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.conftest import make_settings
from tests.tile_server import TileServer, tile_server
from vigil.bootstrap import Container
from vigil.geo import tile_fetch
from vigil.geo.tiles import TileSource, tile_corner, tile_source, tile_xy, zoom_for
from vigil.settings import Environment, Settings
from vigil.web.app import create_app

OS_WMTS = (
    "https://api.os.uk/maps/raster/v1/wmts?key=K&service=WMTS&request=GetTile&version=2.0.0"
    "&layer=Road_3857&tileMatrixSet=EPSG:3857&tileMatrix=EPSG:3857:{TileMatrix}"
    "&tileRow={TileRow}&tileCol={TileCol}"
)


def _settings(environment: Environment = Environment.TEST, **tiles: object) -> Settings:
    return Settings(environment=environment, secret_key="x", **tiles)  # type: ignore[arg-type]


def test_an_xyz_template_and_its_notice_make_the_tile_source() -> None:
    settings = _settings(
        map_tiles_url="https://tiles.example.org/osm/{z}/{x}/{y}.png",
        map_tiles_attribution="  © OpenStreetMap   contributors ",
    )
    assert settings.map_tiles == TileSource(
        template="https://tiles.example.org/osm/{z}/{x}/{y}.png",
        attribution="© OpenStreetMap contributors",
        max_zoom=19,
    )
    assert settings.map_tiles.origin == "https://tiles.example.org"
    assert settings.map_tiles.url(15, 16300, 10900) == (
        "https://tiles.example.org/osm/15/16300/10900.png"
    )


def test_a_wmts_template_is_read_as_the_same_three_numbers() -> None:
    found = tile_source(OS_WMTS, "Contains OS data © Crown copyright", 20, production=True)
    assert found is not None
    assert found.url(16, 32600, 21700).endswith(
        "tileMatrix=EPSG:3857:16&tileRow=21700&tileCol=32600"
    )
    assert found.origin == "https://api.os.uk"


def test_no_url_means_no_tiles_and_the_grid() -> None:
    assert _settings().map_tiles is None
    assert _settings(map_tiles_attribution="© someone").map_tiles is None


@pytest.mark.parametrize(
    ("url", "attribution", "environment", "reason"),
    [
        ("http://tiles.example.org/{z}/{x}/{y}.png", "©", Environment.PRODUCTION, "https:// in"),
        ("https://tiles.example.org/{z}/{x}.png", "©", Environment.TEST, "must contain {z}, {x}"),
        ("https://tiles.example.org/{z}/{x}/{y}.png", " ", Environment.TEST, "ATTRIBUTION is req"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "©", Environment.TEST, "no {s} subdo"),
        ("https://tiles.example.org/{z}/{x}/{y}{r}.png", "©", Environment.TEST, "{r}"),
        ("https://t.example.org/{z}/{x}/{y}?m={TileMatrix}", "©", Environment.TEST, "mixes XYZ"),
        ("https://t.example.org/{TileMatrix}/{TileCol}", "©", Environment.TEST, "needs {TileM"),
        ("file:///etc/{z}/{x}/{y}", "©", Environment.TEST, "an https:// address with a host"),
        ("javascript:alert(1)//{z}/{x}/{y}", "©", Environment.TEST, "an https:// address"),
        ("https://t.example.org/{z}/{x}/{y}", "©" * 301, Environment.TEST, "longer than 300"),
        ("https://t.example.org;script-src */{z}/{x}/{y}", "©", Environment.TEST, "plain host"),
        ("https://me:pw@t.example.org/{z}/{x}/{y}", "©", Environment.TEST, "user:pass@"),
    ],
)
def test_unusable_tile_settings_stop_start_up_with_the_reason(
    url: str, attribution: str, environment: Environment, reason: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(environment, map_tiles_url=url, map_tiles_attribution=attribution)
    assert "VIGIL_MAP_TILES_" in str(raised.value)
    assert reason in str(raised.value)


def test_plain_http_tiles_are_allowed_outside_production() -> None:
    settings = _settings(
        map_tiles_url="http://127.0.0.1:8080/{z}/{x}/{y}.png", map_tiles_attribution="Test tiles"
    )
    assert settings.map_tiles is not None
    assert settings.map_tiles.origin == "http://127.0.0.1:8080"


def test_tile_numbers_and_corners_agree() -> None:
    # Birmingham at zoom 16: the tile holding the point has its top-left corner north-west of it.
    x, y = tile_xy(52.4862, -1.8904, 16)
    north, west = tile_corner(math.floor(x), math.floor(y), 16)
    south, east = tile_corner(math.floor(x) + 1, math.floor(y) + 1, 16)
    assert south < 52.4862 < north
    assert west < -1.8904 < east
    # pyproj's Web Mercator (EPSG:3857) puts the point at tile 32423.86, 21502.98.
    assert (round(x, 2), round(y, 2)) == (32423.86, 21502.98)
    # A tile at zoom 16 is 256 pixels over about 373 m there: 1.46 m a pixel.
    assert zoom_for(1.46, 52.4862, 19) == 16
    assert zoom_for(1.46, 52.4862, 14) == 14  # never deeper than the server serves
    assert zoom_for(1e9, 52.4862, 19) == 0


@pytest.fixture
def tiles() -> Iterator[TileServer]:
    with tile_server() as server:
        yield server


def _fetcher(server: TileServer, **options: float) -> tile_fetch.TileFetcher:
    source = tile_source(server.template, "Test tiles", 19, production=False)
    assert source is not None
    return tile_fetch.TileFetcher(source, **options)  # type: ignore[arg-type]


def test_tiles_are_fetched_once_and_then_served_from_the_cache(tiles: TileServer) -> None:
    fetcher = _fetcher(tiles)
    keys = [(16, 32424, 21663), (16, 32425, 21663)]
    first = fetcher.tiles(keys)
    assert first is not None
    assert first[keys[0]].media_type == "image/png"
    assert tiles.requests == keys
    assert fetcher.tiles(keys) == first
    assert tiles.requests == keys  # nothing asked again


def test_a_failing_tile_server_gives_no_map_and_is_left_alone_for_a_while(
    tiles: TileServer,
) -> None:
    fetcher = _fetcher(tiles)
    tiles.failing = True
    assert fetcher.tiles([(16, 1, 1)]) is None
    tiles.failing = False
    assert fetcher.tiles([(16, 1, 1)]) is None  # resting: not asked again at once
    assert tiles.requests == []
    assert _fetcher(tiles, rest_after_failure_s=0).tiles([(16, 1, 1)]) is not None


def test_a_tile_server_that_does_not_answer_in_time_gives_no_map() -> None:
    # A listening socket that never answers: the time-out, not a hang.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        source = tile_source(
            f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}", "T", 19, production=False
        )
        assert source is not None
        fetcher = tile_fetch.TileFetcher(source, timeout_s=0.3, budget_s=0.5)
        assert fetcher.tiles([(1, 0, 0)]) is None


def test_only_png_and_jpeg_count_as_tiles() -> None:
    assert tile_fetch.media_type(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert tile_fetch.media_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert tile_fetch.media_type(b"<svg onload=alert(1)>") is None
    assert tile_fetch.media_type(b"<html>Service unavailable</html>") is None


def test_images_may_come_from_the_tile_server_alone(container: Container) -> None:
    plain = TestClient(create_app(container)).get("/login").headers["content-security-policy"]
    assert "img-src 'self' data:;" in plain
    container.settings = make_settings(container.settings.database_url).model_copy(
        update={
            "map_tiles_url": "https://tiles.example.org/{z}/{x}/{y}.png",
            "map_tiles_attribution": "Test tiles",
        }
    )
    page = TestClient(create_app(container)).get("/login")
    csp = page.headers["content-security-policy"]
    assert "img-src 'self' data: https://tiles.example.org;" in csp
    assert "connect-src 'self';" in csp  # tiles are images: nothing else may reach the server
    assert 'id="vigil-map-tiles"' in page.text
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in page.text


def test_the_start_up_error_shows_no_other_setting() -> None:
    secret = "kq3VtZ9wLmX2pR7sB4nH8cJ6fD1gY5aE0uT"
    with pytest.raises(ValidationError) as raised:
        Settings(
            environment=Environment.PRODUCTION,
            secret_key=secret,
            map_tiles_url="http://tiles.example.org/{z}/{x}/{y}.png",
            map_tiles_attribution="Tiles",
        )
    assert "must be https:// in production" in str(raised.value)
    assert secret not in str(raised.value)
    assert secret[:8] not in str(raised.value)
