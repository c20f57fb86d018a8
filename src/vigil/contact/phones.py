"""Phone numbers as prisons dial them, compared as E.164 (default region GB)."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "GB"
MAX_DIALLED_LENGTH = 40


class NotAPhoneNumber(ValueError):
    pass


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """``+44 (0)7700 900123``, ``07700 900123``, ``0044 7700 900123`` and ``447700900123`` agree."""
    text = raw.strip()
    if not text or len(text) > MAX_DIALLED_LENGTH:
        raise NotAPhoneNumber("is empty or too long")
    # Written the UK way with the trunk zero in brackets after the country code.
    text = text.replace("(0)", "")
    digits = "".join(ch for ch in text if ch in "0123456789")
    if text.startswith("00"):
        text = "+" + digits[2:]
    elif not text.startswith("+") and digits.startswith("44") and len(digits) >= 12:
        # Dialled with the country code but no plus (how some platforms log numbers).
        text = "+" + digits
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise NotAPhoneNumber("is not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise NotAPhoneNumber("is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(e164: str) -> str:
    """For lists: enough to tell numbers apart, not enough to dial."""
    return e164[:3] + "•" * max(0, len(e164) - 6) + e164[-3:]
