"""Reading a contact request from the form or its JSON twin: every field checked, each bad one
named, nothing else lost; and a request's stored JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from vigil.contact import addresses, phones
from vigil.contact.model import (
    EMAIL,
    MAX_ADDRESSES,
    MAX_EMAIL,
    MAX_EMAILS,
    MAX_LINE,
    MAX_LINES,
    MAX_NAME,
    MAX_PEOPLE,
    MAX_PHONE,
    MAX_PHONES,
    MAX_POSTCODE,
    MAX_PRISON_NUMBER,
    MAX_SHORT_TEXT,
    MAX_TEXT,
    PRISON_NUMBER,
    Consent,
    ContactKind,
    ContactRequest,
    ContactSoFar,
    E,
    PostalAddress,
    PrisonerDetails,
    ProtectedPerson,
    Requester,
    RequesterType,
    normalise_email,
    normalise_prison_number,
)
from vigil.errors import ErrorCollector
from vigil.text import text_problem


def _text(
    errors: ErrorCollector,
    value: Any,
    name: str,
    limit: int,
    *,
    required: str | None = None,
) -> str | None:
    """A trimmed string within ``limit``; ``required`` is the message when it is missing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(name, required)
        return None
    if not isinstance(value, str):
        errors.add(name, "must be text")
        return None
    text: str = value.strip()
    if len(text) > limit:
        errors.add(name, f"must be {limit} characters or fewer")
        return None
    # Names and addresses go into encrypted columns, pages and letters: every character must be
    # storable, printable Unicode, or the whole case queue fails to show later.
    if problem := text_problem(text, max_length=limit, multiline=True):
        errors.add(name, problem)
        return None
    return text


def _list(errors: ErrorCollector, value: Any, name: str, limit: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(name, "must be a list")
        return []
    if len(value) > limit:
        errors.add(name, f"must have {limit} entries or fewer")
        return []
    return value


def _enum(errors: ErrorCollector, kind: type[E], value: Any, name: str, required: str) -> E | None:
    if value is None or value == "":
        errors.add(name, required)
        return None
    try:
        return kind(value)
    except ValueError:
        errors.add(name, "must be one of " + ", ".join(k.value for k in kind))
        return None


def parse_phone(errors: ErrorCollector, raw: Any, name: str) -> str | None:
    text = _text(errors, raw, name, MAX_PHONE)
    if text is None:
        return None
    try:
        return phones.to_e164(text)
    except phones.NotAPhoneNumber:
        errors.add(name, "Enter a phone number, like 07700 900 982 or +44 7700 900 982")
        return None


def parse_email(errors: ErrorCollector, raw: Any, name: str) -> str | None:
    text = _text(errors, raw, name, MAX_EMAIL)
    if text is None:
        return None
    if not EMAIL.match(text):
        errors.add(name, "Enter an email address in the correct format, like name@example.com")
        return None
    return normalise_email(text)


def parse_prison_number(errors: ErrorCollector, raw: object, name: str, problem: str) -> str | None:
    """A prison number as written (any case, spaces), normalised; ``problem`` when it is not one."""
    if raw is not None and not isinstance(raw, str):
        errors.add(name, "must be text")
        return None
    if not raw:
        return None
    number = normalise_prison_number(raw)
    if not PRISON_NUMBER.match(number):
        errors.add(name, problem)
    return number


def parse_requester(errors: ErrorCollector, data: Any, *, details: bool = True) -> Requester | None:
    if not isinstance(data, Mapping):
        errors.add("requester", "Tell us who is asking")
        return None
    kind = _enum(errors, RequesterType, data.get("type"), "requester.type", "Select who is asking")
    if not details:
        return Requester(kind, None, None, None) if kind else None
    name = _text(errors, data.get("name"), "requester.name", MAX_NAME, required="Enter your name")
    email = parse_email(errors, data.get("email"), "requester.email")
    phone = parse_phone(errors, data.get("phone"), "requester.phone")
    if (
        email is None
        and phone is None
        and not any(e.field in ("requester.email", "requester.phone") for e in errors.errors)
    ):
        errors.add("requester.email", "Enter an email address or a phone number")
    safe = _text(errors, data.get("safe_contact"), "requester.safe_contact", MAX_SHORT_TEXT)
    if kind is None:
        return None
    return Requester(kind, name, email, phone, safe)


def parse_person(errors: ErrorCollector, data: Any, prefix: str) -> ProtectedPerson | None:
    if not isinstance(data, Mapping):
        errors.add(prefix, "must be an object with a name")
        return None
    name = _text(errors, data.get("name"), f"{prefix}.name", MAX_NAME, required="Enter their name")
    numbers: list[str] = []
    for i, raw in enumerate(_list(errors, data.get("phones"), f"{prefix}.phones", MAX_PHONES)):
        number = parse_phone(errors, raw, f"{prefix}.phones.{i}")
        if number and number not in numbers:
            numbers.append(number)
    emails: list[str] = []
    for i, raw in enumerate(_list(errors, data.get("emails"), f"{prefix}.emails", MAX_EMAILS)):
        email = parse_email(errors, raw, f"{prefix}.emails.{i}")
        if email and email not in emails:
            emails.append(email)
    postal: list[PostalAddress] = []
    raw_addresses = _list(errors, data.get("addresses"), f"{prefix}.addresses", MAX_ADDRESSES)
    for i, raw in enumerate(raw_addresses):
        address = parse_address(errors, raw, f"{prefix}.addresses.{i}")
        if address:
            postal.append(address)
    if name is None:
        return None
    if not numbers and not emails and not postal and not errors.errors:
        errors.add(f"{prefix}.phones", "Enter at least one phone number, address or email")
    return ProtectedPerson(name, tuple(numbers), tuple(postal), tuple(emails))


def parse_address(errors: ErrorCollector, data: Any, prefix: str) -> PostalAddress | None:
    if not isinstance(data, Mapping):
        errors.add(prefix, "must be an object with lines and a postcode")
        return None
    before = len(errors.errors)
    lines: list[str] = []
    raw_lines = _list(errors, data.get("lines"), f"{prefix}.lines", MAX_LINES)
    for i, raw in enumerate(raw_lines):
        line = _text(errors, raw, f"{prefix}.lines.{i}", MAX_LINE)
        if line:
            lines.append(line)
    raw_postcode = _text(errors, data.get("postcode"), f"{prefix}.postcode", MAX_POSTCODE)
    postcode = None
    if raw_postcode:
        postcode = addresses.normalise_postcode(raw_postcode)
        if postcode is None:
            errors.add(f"{prefix}.postcode", "Enter a real postcode, like B1 1AA")
    if not lines and len(errors.errors) == before:
        errors.add(f"{prefix}.lines", "Enter the first line of the address")
    if len(errors.errors) > before:
        return None
    address = PostalAddress(tuple(lines), postcode)
    try:
        address.parsed()
    except addresses.NotAnAddress:
        errors.add(f"{prefix}.postcode", "Enter a postcode or a street name")
        return None
    return address


def parse_date(errors: ErrorCollector, raw: Any, name: str, *, today: date | None) -> date | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        errors.add(name, "must be a date like 1985-03-27")
        return None
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        errors.add(name, "must be a real date, like 1985-03-27")
        return None
    if today is not None and value > today:
        errors.add(name, "must be in the past")
        return None
    if value.year < 1900:
        errors.add(name, "must be after 1900")
        return None
    return value


def parse_prisoner(errors: ErrorCollector, data: Any, today: date | None) -> PrisonerDetails:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        errors.add("prisoner", "must be an object")
        return PrisonerDetails()
    name = _text(errors, data.get("name"), "prisoner.name", MAX_NAME)
    dob = parse_date(errors, data.get("date_of_birth"), "prisoner.date_of_birth", today=today)
    number = _text(errors, data.get("prison_number"), "prisoner.prison_number", MAX_PRISON_NUMBER)
    if number:
        number = normalise_prison_number(number)
        if not PRISON_NUMBER.match(number):
            errors.add("prisoner.prison_number", "Enter a prison number like A1234BC")
            number = None
    prison = _text(errors, data.get("prison"), "prisoner.prison", MAX_NAME)
    if not name and not number:
        errors.add("prisoner.name", "Enter the prisoner's name or prison number")
    return PrisonerDetails(name, dob, number, prison)


def parse_contact(errors: ErrorCollector, data: Any) -> ContactSoFar:
    if data is None:
        return ContactSoFar()
    if not isinstance(data, Mapping):
        errors.add("contact", "must be an object")
        return ContactSoFar()
    kinds: list[ContactKind] = []
    for i, raw in enumerate(_list(errors, data.get("kinds"), "contact.kinds", len(ContactKind))):
        kind = _enum(errors, ContactKind, raw, f"contact.kinds.{i}", "Select the kind of contact")
        if kind and kind not in kinds:
            kinds.append(kind)
    dates = _text(errors, data.get("dates"), "contact.dates", MAX_SHORT_TEXT)
    details = _text(errors, data.get("details"), "contact.details", MAX_TEXT)
    return ContactSoFar(tuple(kinds), dates, details)


def parse_consent(errors: ErrorCollector, raw: Any, requester: Requester | None) -> Consent:
    if requester is not None and requester.type is RequesterType.VICTIM:
        return Consent.YES
    if requester is not None and requester.type is RequesterType.ON_BEHALF_WITH_CONSENT:
        if raw not in (None, "", Consent.YES.value):
            errors.add("consent", "must be yes when acting with the person's consent")
        return Consent.YES
    found = _enum(errors, Consent, raw, "consent", "Select whether the person agreed")
    return found or Consent.NOT_ASKED


def parse_request(data: Any, *, today: date | None = None) -> ContactRequest:
    """Validate a whole request (the JSON twin, and the form's final check)."""
    errors = ErrorCollector()
    if not isinstance(data, Mapping):
        errors.add("body", "must be a JSON object")
        errors.raise_if_any()
    requester = parse_requester(errors, data.get("requester"))
    consent = parse_consent(errors, data.get("consent"), requester)
    people: list[ProtectedPerson] = []
    raw_people = _list(errors, data.get("protected_people"), "protected_people", MAX_PEOPLE)
    if not raw_people and not any(e.field == "protected_people" for e in errors.errors):
        errors.add("protected_people", "Add at least one person to protect")
    for i, raw in enumerate(raw_people):
        person = parse_person(errors, raw, f"protected_people.{i}")
        if person:
            people.append(person)
    prisoner = parse_prisoner(errors, data.get("prisoner"), today)
    contact = parse_contact(errors, data.get("contact"))
    errors.raise_if_any()
    assert requester is not None
    return ContactRequest(requester, consent, tuple(people), prisoner, contact)


def request_to_json(request: ContactRequest) -> dict[str, Any]:
    """The stored (then encrypted) form of a request; ``parse_request`` reads it back."""
    r = request.requester
    return {
        "requester": {
            "type": r.type.value,
            "name": r.name,
            "email": r.email,
            "phone": r.phone,
            "safe_contact": r.safe_contact,
        },
        "consent": request.consent.value,
        "protected_people": [person_to_json(p) for p in request.protected_people],
        "prisoner": {
            "name": request.prisoner.name,
            "date_of_birth": request.prisoner.date_of_birth.isoformat()
            if request.prisoner.date_of_birth
            else None,
            "prison_number": request.prisoner.prison_number,
            "prison": request.prisoner.prison,
        },
        "contact": {
            "kinds": [k.value for k in request.contact.kinds],
            "dates": request.contact.dates,
            "details": request.contact.details,
        },
    }


def person_to_json(person: ProtectedPerson) -> dict[str, Any]:
    return {
        "name": person.name,
        "phones": list(person.phones),
        "addresses": [{"lines": list(a.lines), "postcode": a.postcode} for a in person.addresses],
        "emails": list(person.emails),
    }


def person_from_json(data: Mapping[str, Any]) -> ProtectedPerson:
    return ProtectedPerson(
        name=data["name"],
        phones=tuple(data.get("phones", [])),
        addresses=tuple(
            PostalAddress(tuple(a["lines"]), a.get("postcode")) for a in data.get("addresses", [])
        ),
        emails=tuple(data.get("emails", [])),
    )
