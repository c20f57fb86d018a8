"""Where the printed documents' boxes fall on the page, as WeasyPrint lays them out."""

from __future__ import annotations


def off_the_page(html: str) -> list[str]:
    """Maps and tables whose laid-out box runs past the page's printable area, as WeasyPrint
    (which prints the PDF) lays them out."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    found = []
    for number, page in enumerate(HTML(string=html).render().pages, start=1):
        box = page._page_box
        right = box.content_box_x() + box.width
        bottom = box.content_box_y() + box.height
        for inner in box.descendants():
            tag = str(getattr(inner, "element_tag", ""))
            if not (tag.endswith("svg") or tag == "table"):
                continue
            if (
                inner.position_x + inner.margin_width() > right + 0.5
                or inner.position_y + inner.margin_height() > bottom + 0.5
            ):
                found.append(f"page {number}: {tag}")
    return found
