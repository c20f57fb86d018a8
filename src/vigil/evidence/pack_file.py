"""A pack file as handed in: the signed JSON itself, or the PDF for people that carries it.

The PDF is a rendering; what is signed is the JSON attached to it (an embedded file, written by
WeasyPrint with the Flate filter). Reading it back takes that attachment out byte for byte, so
``vigil evidence verify`` checks the PDF's pack exactly as it checks the JSON handed out beside
it. The PDF may come from anywhere, so nothing in it is trusted: the attachment's size is
bounded and a PDF with no pack, or with more than one, is refused rather than guessed at.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

PDF_MAGIC = b"%PDF-"
# Far above any real pack (a week of fixes at one a second is a few tens of megabytes).
MAX_PACK_BYTES = 256 * 1024 * 1024
# An object whose dictionary (up to its stream) says it is an embedded file.
_EMBEDDED = re.compile(
    rb"\d+\s+\d+\s+obj\s*(<<(?:(?!endobj|stream).){0,4000}?/Type\s*/EmbeddedFile\b"
    rb"(?:(?!endobj|stream).){0,4000}?)stream\r?\n",
    re.DOTALL,
)
_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")


class NotAPack(ValueError):
    """The file is a PDF without exactly one signed pack attached."""


@dataclass(frozen=True)
class HandedIn:
    pack: bytes  # the signed JSON, byte for byte
    from_pdf: bool


def read_handed_in(data: bytes) -> HandedIn:
    """The signed JSON in ``data``: the file itself, or the one pack attached to a PDF."""
    if not data.startswith(PDF_MAGIC):
        return HandedIn(data, from_pdf=False)
    attached = [a for a in _attachments(data) if a.lstrip().startswith(b'{"evidence"')]
    if not attached:
        raise NotAPack("the PDF carries no signed evidence pack (its attachment is missing)")
    if len(attached) > 1:
        raise NotAPack("the PDF carries more than one evidence pack; a pack PDF carries one")
    return HandedIn(attached[0], from_pdf=True)


def _attachments(data: bytes) -> list[bytes]:
    found = []
    for match in _EMBEDDED.finditer(data):
        dictionary, begin = match.group(1), match.end()
        length = _LENGTH.search(dictionary)
        end = begin + int(length.group(1)) if length else data.find(b"endstream", begin)
        if end < begin or end > len(data):
            raise NotAPack("the PDF's attachment is cut short (the file was truncated)")
        found.append(_decoded(dictionary, data[begin:end]))
    return found


def _decoded(dictionary: bytes, raw: bytes) -> bytes:
    """The attachment's bytes: Flate-decoded when the dictionary says so, at most
    ``MAX_PACK_BYTES`` (a small hostile stream must not inflate without limit)."""
    if b"/FlateDecode" not in dictionary:
        return raw
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, MAX_PACK_BYTES + 1)
    except zlib.error as exc:
        raise NotAPack("the PDF's attachment does not decompress (it was altered)") from exc
    if len(out) > MAX_PACK_BYTES or inflater.unconsumed_tail:
        raise NotAPack("the PDF's attachment is larger than any evidence pack")
    return out
