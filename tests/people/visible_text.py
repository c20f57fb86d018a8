"""What a person reads on a page: its text (visually hidden text too, which screen readers say),
without markup, scripts, styles or attribute values; and the internal ids and raw codes that must
never show in it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# "strap_removed", "starts_at": a stored code instead of its label.
RAW_CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
# "Person 1", "person 7", "protected person 1": a row id instead of a name.
PERSON_ID = re.compile(r"\b[Pp]erson (?:id )?\d+\b")
# "user:9:officer", "token:3:gateway": an actor's stored form instead of their name.
ACTOR = re.compile(r"\b(?:user|token|system):[\w:.-]+")


class _Text(HTMLParser):
    SKIPPED = frozenset({"script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def internal_words(html: str) -> list[str]:
    """Every raw code, person id and stored actor a reader would see on the page."""
    text = visible_text(html)
    return [m.group(0) for pattern in (RAW_CODE, PERSON_ID, ACTOR) for m in pattern.finditer(text)]
