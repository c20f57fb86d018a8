"""A real street tile server for the tests, on loopback: solid-colour PNG tiles made here (zlib,
no imaging library), every request counted, and a switch that makes it fail like a tile server
that is down."""

from __future__ import annotations

import re
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TILE_COLOUR = (0x12, 0x9E, 0x61)  # a green no map part draws with, easy to find in a PDF
_TILE_PATH = re.compile(r"^/tiles/(\d+)/(\d+)/(\d+)\.png$")


def solid_png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A PNG of one colour, written by hand (signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes(rgb) * size  # filter byte 0, then the row's pixels
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


@dataclass
class TileServer:
    origin: str
    requests: list[tuple[int, int, int]] = field(default_factory=list)
    failing: bool = False

    @property
    def template(self) -> str:
        return f"{self.origin}/tiles/{{z}}/{{x}}/{{y}}.png"


@contextmanager
def tile_server(rgb: tuple[int, int, int] = TILE_COLOUR) -> Iterator[TileServer]:
    png = solid_png(rgb)
    lock = threading.Lock()
    state = TileServer(origin="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = _TILE_PATH.match(self.path)
            if found is None or state.failing:
                self.send_error(404 if found is None else 503)
                return
            with lock:
                state.requests.append(tuple(int(n) for n in found.groups()))  # type: ignore[arg-type]
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="test-tiles", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
