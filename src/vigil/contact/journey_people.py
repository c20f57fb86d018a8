"""The public form's questions about the protected people: each person, their address, and
whether there is another."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vigil.contact.journey import (
    AddedPerson,
    Errors,
    Field,
    Form,
    Page,
    check_length,
    mapped_errors,
    one_answer,
    split_lines,
)
from vigil.contact.model import (
    MAX_EMAILS,
    MAX_LINE,
    MAX_NAME,
    MAX_PEOPLE,
    MAX_PHONES,
    MAX_POSTCODE,
)
from vigil.contact.request_parsing import (
    parse_address,
    parse_email,
    parse_phone,
)
from vigil.errors import ErrorCollector


def _person(draft: dict[str, Any], index: int) -> dict[str, Any]:
    people: list[dict[str, Any]] = draft.setdefault("protected_people", [])
    while len(people) <= index:
        people.append({"name": None, "phones": [], "addresses": [], "emails": []})
    return people[index]


def person_page(draft: dict[str, Any], index: int) -> Page:
    people = draft.get("protected_people", [])
    p = people[index] if index < len(people) else {}
    ordinal = "" if index == 0 else f" (person {index + 1})"
    return Page(
        f"person/{index}",
        f"Who needs protecting{ordinal}?",
        [
            Field("text", "name", "Full name", value=p.get("name"), maxlength=MAX_NAME),
            Field(
                "textarea",
                "phones",
                "All their phone numbers",
                hint="One number on each line, including any they use for work.",
                value="\n".join(p.get("phones", [])),
                maxlength=MAX_PHONES * 41,
            ),
            Field(
                "textarea",
                "emails",
                "All their email addresses (optional)",
                hint="One email address on each line.",
                value="\n".join(p.get("emails", [])),
                maxlength=MAX_EMAILS * 321,
            ),
        ],
        caption="The people to protect",
        hint="Give at least one way the prisoner could reach them: a phone number here, or an "
        "email address here or a postal address on the next page.",
    )


def person_save(draft: dict[str, Any], form: Form, index: int) -> Errors:
    if index >= MAX_PEOPLE:
        return [("name", f"You can add up to {MAX_PEOPLE} people")]
    phones_text = one_answer(form, "phones")
    emails_text = one_answer(form, "emails")
    errors: Errors = []
    check_length(errors, "phones", phones_text, MAX_PHONES * 41)
    check_length(errors, "emails", emails_text, MAX_EMAILS * 321)
    if errors:
        return errors
    collector = ErrorCollector()
    name = one_answer(form, "name").strip()
    if not name:
        collector.add("name", "Enter their full name")
    elif len(name) > MAX_NAME:
        collector.add("name", f"Name must be {MAX_NAME} characters or fewer")
    phone_lines = _check_lines(
        collector, phones_text, "phones", MAX_PHONES, parse_phone, PHONE_LINE_PROBLEM
    )
    email_lines = _check_lines(
        collector, emails_text, "emails", MAX_EMAILS, parse_email, EMAIL_LINE_PROBLEM
    )
    errors = mapped_errors(collector, {})
    if errors:
        return errors
    person = _person(draft, index)
    person.update(name=name, phones=phone_lines, emails=email_lines)
    return []


PHONE_LINE_PROBLEM = ("numbers", "enter a phone number, like 07700 900 982")
EMAIL_LINE_PROBLEM = ("email addresses", "enter an email address, like name@example.com")


def _check_lines(
    collector: ErrorCollector,
    text: str,
    name: str,
    limit: int,
    parse: Callable[[ErrorCollector, Any, str], str | None],
    problem: tuple[str, str],
) -> list[str]:
    """Check one answer per line (numbers, emails); a bad line's error says which line it is."""
    plural, advice = problem
    lines = split_lines(text)
    if len(lines) > limit:
        collector.add(name, f"Enter {limit} {plural} or fewer")
    for i, line in enumerate(lines[:limit]):
        before = len(collector.errors)
        if not parse(collector, line, name) and len(collector.errors) > before:
            collector.errors[-1] = type(collector.errors[-1])(name, f"Line {i + 1}: {advice}")
    return lines


def address_page(draft: dict[str, Any], index: int) -> Page:
    person = _person(draft, index)
    addresses = person.get("addresses") or []
    return Page(
        f"person/{index}/address",
        f"What is {person.get('name') or 'their'}'s address?",
        [*_main_address_fields(addresses[0] if addresses else {}), _other_addresses(addresses[1:])],
        caption="The people to protect",
        hint="Leave this page blank if you only want to stop calls and emails.",
    )


def _main_address_fields(first: dict[str, Any]) -> list[Field]:
    lines = first.get("lines", []) if first else []
    return [
        Field(
            "text",
            "line1",
            "Address line 1",
            value=lines[0] if lines else "",
            autocomplete="address-line1",
            maxlength=MAX_LINE,
        ),
        Field(
            "text",
            "line2",
            "Address line 2 (optional)",
            value=lines[1] if len(lines) > 1 else "",
            autocomplete="address-line2",
            maxlength=MAX_LINE,
        ),
        Field(
            "text",
            "town",
            "Town or city (optional)",
            value=lines[2] if len(lines) > 2 else "",
            autocomplete="address-level2",
            width="govuk-!-width-two-thirds",
            maxlength=MAX_LINE,
        ),
        Field(
            "text",
            "postcode",
            "Postcode",
            value=first.get("postcode") if first else "",
            autocomplete="postal-code",
            width="govuk-input--width-10",
            maxlength=MAX_POSTCODE,
        ),
    ]


def _other_addresses(others: list[dict[str, Any]]) -> Field:
    return Field(
        "textarea",
        "other_addresses",
        "Any other addresses they live or stay at (optional)",
        hint="Put each address on its own line, with its postcode, "
        "for example '4 Mill Lane, Leeds, LS1 4AB'.",
        value="\n".join(
            ", ".join([*a["lines"], a.get("postcode") or ""]).strip(", ") for a in others
        ),
        maxlength=4 * (MAX_LINE * 3 + MAX_POSTCODE),
    )


def address_save(draft: dict[str, Any], form: Form, index: int) -> Errors:
    person = _person(draft, index)
    values = {k: one_answer(form, k).strip() for k in ("line1", "line2", "town", "postcode")}
    others_text = one_answer(form, "other_addresses")
    errors: Errors = []
    check_length(errors, "other_addresses", others_text, 4 * (MAX_LINE * 3 + MAX_POSTCODE))
    if errors:
        return errors
    collector = ErrorCollector()
    found: list[dict[str, Any]] = []
    if any(values.values()):
        lines = [values["line1"], values["line2"], values["town"]]
        if not values["line1"]:
            collector.add("line1", "Enter address line 1, typically the building and street")
        if not values["postcode"]:
            collector.add("postcode", "Enter the postcode")
        raw = {"lines": lines, "postcode": values["postcode"] or None}
        if not collector.errors and parse_address(collector, raw, "address"):
            found.append(raw)
    for i, line in enumerate(split_lines(others_text)):
        parts = [p.strip() for p in line.split(",") if p.strip()]
        if parse_address(collector, {"lines": parts, "postcode": None}, f"other.{i}"):
            found.append({"lines": parts, "postcode": None})
    errors = mapped_errors(
        collector,
        {"address.lines": "line1", "address.postcode": "postcode", "other": "other_addresses"},
    )
    if errors:
        return errors
    person["addresses"] = found
    if not person.get("phones") and not person.get("emails") and not person["addresses"]:
        return [("line1", "Enter an address, or go back and give a phone number or email")]
    return []


def another_page(draft: dict[str, Any]) -> Page:
    people = draft.get("protected_people", [])
    count = len(people)
    title = (
        f"You have added {count} {'person' if count == 1 else 'people'}"
        if count
        else "You have not added anyone yet"
    )
    return Page(
        "another-person",
        title,
        [
            Field(
                "radios",
                "another",
                "Do you need to add another person?",
                hint="Add children or relatives the prisoner might contact instead.",
                options=[("yes", "Yes"), ("no", "No")],
            )
        ],
        caption="The people to protect",
        people=[
            AddedPerson(i, p.get("name") or f"Person {i + 1}", _given(p))
            for i, p in enumerate(people)
        ],
    )


def _given(person: dict[str, Any]) -> str:
    counts = [
        (len(person.get("phones") or []), "phone number", "phone numbers"),
        (len(person.get("emails") or []), "email address", "email addresses"),
        (len(person.get("addresses") or []), "address", "addresses"),
    ]
    parts = [f"{n} {one if n == 1 else many}" for n, one, many in counts if n]
    return ", ".join(parts) or "No contact details yet"


def _called(draft: dict[str, Any], index: int) -> str:
    people = draft.get("protected_people", [])
    name = people[index].get("name") if 0 <= index < len(people) else None
    return str(name or f"person {index + 1}")


def remove_page(draft: dict[str, Any], index: int) -> Page:
    name = _called(draft, index)
    question = f"Are you sure you want to remove {name}?"
    return Page(
        f"person/{index}/remove",
        question,
        [
            # Which person the answer is about: a second post of the same form (or a list
            # that changed in another tab) must not remove whoever moved into this place.
            Field("hidden", "person", "", value=name),
            Field("radios", "remove", question, options=[("yes", "Yes"), ("no", "No")]),
        ],
        caption="The people to protect",
    )


def remove_save(draft: dict[str, Any], form: Form, index: int) -> Errors:
    choice = one_answer(form, "remove")
    if choice not in ("yes", "no"):
        return [("remove", "Select yes if you want to remove this person")]
    people: list[dict[str, Any]] = draft.get("protected_people", [])
    if (
        choice == "yes"
        and 0 <= index < len(people)
        and _called(draft, index) == one_answer(form, "person")
    ):
        del people[index]
    return []
