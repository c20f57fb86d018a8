"""What counts as text anywhere input enters Vigil: valid Unicode that every store can hold.

A lone surrogate (``"\\ud800"``, which JSON can spell) cannot be encoded as UTF-8, so a database
refuses it and takes the rest of its transaction down; control characters break logs, CSV exports
and pages. Both are refused at the edge, naming the field, before anything is stored.
"""

from __future__ import annotations

import math
import re

# C0 and C1 controls except tab, newline and carriage return, which multi-line fields may hold.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def text_problem(value: str, *, max_length: int, multiline: bool = False) -> str | None:
    """Why ``value`` is not acceptable text, or None when it is."""
    if _SURROGATE.search(value):
        return "contains a character that is not valid Unicode"
    if _CONTROL.search(value) or (not multiline and ("\n" in value or "\r" in value)):
        return "contains a control character"
    if len(value) > max_length:
        return f"is longer than {max_length} characters"
    return None


def ascii_digits(text: str) -> bool:
    """Only the digits 0-9, at least one. ``str.isdigit`` also accepts superscripts and other
    scripts' digits, some of which ``int`` refuses: a check that passes and a parse that fails."""
    return text.isascii() and text.isdigit()


def finite_number(text: str) -> float:
    """A number typed into a form; ``float()`` alone accepts "nan", "inf" and "1e999"."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text!r} is not a finite number")
    return number
