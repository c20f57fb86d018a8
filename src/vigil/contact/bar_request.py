"""Reading a bar request (API body or case handler's form): scope, prisoner, items, reason and
review date, each problem named by its field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from vigil.contact.model import (
    MAX_SHORT_TEXT,
    BarScope,
    PostalAddress,
)
from vigil.contact.request_parsing import (
    parse_address,
    parse_email,
    parse_phone,
    parse_prison_number,
)
from vigil.errors import ErrorCollector, ValidationError

# How many items one bar may name: a request lists a household's numbers and addresses, not a
# directory.
LIST_LIMITS = (("numbers", 50), ("addresses", 20), ("emails", 50))


@dataclass(frozen=True)
class BarRequest:
    scope: BarScope
    prison_number: str | None
    numbers: tuple[str, ...]  # E.164
    addresses: tuple[PostalAddress, ...]
    emails: tuple[str, ...]
    reason: str
    review_date: date | None


def parse_bar(data: Any, *, today: date) -> BarRequest:
    """The bar body (API and form): numbers as written, addresses as lines + postcode."""
    if not isinstance(data, dict):
        raise ValidationError("body", "must be a JSON object")
    errors = ErrorCollector()
    scope = _scope(errors, data.get("scope"))
    prison_number = parse_prison_number(
        errors, data.get("prison_number"), "prison_number", "must be a prison number like A1234BC"
    )
    data = _without_oversized_lists(errors, data)
    numbers = _distinct(
        parse_phone(errors, raw, f"numbers.{i}") for i, raw in enumerate(data.get("numbers") or [])
    )
    emails = _distinct(
        parse_email(errors, raw, f"emails.{i}") for i, raw in enumerate(data.get("emails") or [])
    )
    postal = [
        a
        for i, raw in enumerate(data.get("addresses") or [])
        if (a := parse_address(errors, _address_fields(raw), f"addresses.{i}"))
    ]
    reason = _reason(errors, data.get("reason"))
    review = _review_date(errors, data.get("review_date"), today)
    errors.raise_if_any()
    assert scope is not None
    assert reason is not None
    return BarRequest(
        scope, prison_number, tuple(numbers), tuple(postal), tuple(emails), reason, review
    )


def _scope(errors: ErrorCollector, raw: object) -> BarScope | None:
    try:
        return BarScope(str(raw))
    except ValueError:
        errors.add("scope", "must be prisoner or estate")
        return None


def _without_oversized_lists(errors: ErrorCollector, data: dict[str, Any]) -> dict[str, Any]:
    # An oversized or malformed list is reported once and then read as empty, so its items do
    # not each add an error of their own.
    for key, limit in LIST_LIMITS:
        value = data.get(key)
        if value is not None and (not isinstance(value, list) or len(value) > limit):
            errors.add(key, f"must be a list of {limit} or fewer")
            data = {**data, key: []}
    return data


def _distinct(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _address_fields(raw: object) -> object:
    # The form sends an address as one comma-separated line; the API sends lines and a postcode.
    if isinstance(raw, str):
        return {"lines": [line.strip() for line in raw.split(",")], "postcode": None}
    return raw


def _reason(errors: ErrorCollector, raw: object) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        errors.add("reason", "Enter the reason for the bar")
        return None
    if len(raw) > MAX_SHORT_TEXT:
        errors.add("reason", f"must be {MAX_SHORT_TEXT} characters or fewer")
    return raw.strip()


def _review_date(errors: ErrorCollector, raw: object, today: date) -> date | None:
    if not raw:
        return None
    try:
        review = date.fromisoformat(str(raw))
    except ValueError:
        errors.add("review_date", "must be a real date, like 2027-06-01")
        return None
    if review <= today:
        errors.add("review_date", "must be in the future")
    return review
