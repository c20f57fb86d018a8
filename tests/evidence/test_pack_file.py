"""Reading a pack handed in as its PDF: the attachment comes out byte for byte, and a PDF that
was cut short, altered inside the attachment or carries no pack is refused or fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigil.evidence import pack, pack_file


def _document() -> tuple[bytes, pack.SigningKey]:
    key = pack.SigningKey.derived("k", "Test signer")
    evidence = {
        "pack": {"reference": "evidence-pack:7"},
        "violation": {"id": "e1", "kind": "curfew"},
        "fixes": [{"id": 1, "lat": 52.1}],
    }
    return pack.sign(evidence, key, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)), key


def _pdf_with(document: bytes) -> bytes:
    """A PDF with the pack attached, made by WeasyPrint as the pack PDF is."""
    from weasyprint import HTML, Attachment  # type: ignore[import-untyped]

    attachment = Attachment(string=document.decode(), name="evidence-pack-7.json")
    pdf: bytes = HTML(string="<p>Pack</p>").write_pdf(attachments=[attachment])
    return pdf


def test_the_pack_attached_to_a_pdf_comes_out_byte_for_byte() -> None:
    document, key = _document()
    handed = pack_file.read_handed_in(_pdf_with(document))
    assert handed.from_pdf
    assert handed.pack == document
    assert pack.verify(handed.pack, {key.key_id: key.signer}).intact
    assert pack_file.read_handed_in(document) == pack_file.HandedIn(document, from_pdf=False)


def test_a_pdf_without_a_pack_or_cut_short_is_refused() -> None:
    from weasyprint import HTML  # type: ignore[import-untyped]

    with pytest.raises(pack_file.NotAPack, match="no signed evidence pack"):
        pack_file.read_handed_in(HTML(string="<p>No pack</p>").write_pdf())
    pdf = _pdf_with(_document()[0])
    with pytest.raises(pack_file.NotAPack):
        pack_file.read_handed_in(pdf[: pdf.index(b"/EmbeddedFile") + 200])


def test_a_changed_pack_inside_the_pdf_fails_verification() -> None:
    document, key = _document()
    # A PDF made again around an edited pack: the pages may say anything, the pack does not hold.
    changed = document.replace(b'"lat":52.1', b'"lat":52.2')
    handed = pack_file.read_handed_in(_pdf_with(changed))
    check = pack.verify(handed.pack, {key.key_id: key.signer})
    assert not check.intact
    assert "SHA-256" in check.summary()


def test_an_attachment_that_would_inflate_past_any_pack_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pack_file, "MAX_PACK_BYTES", 100)
    with pytest.raises(pack_file.NotAPack, match="larger than any evidence pack"):
        pack_file.read_handed_in(_pdf_with(_document()[0]))
