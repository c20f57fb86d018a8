"""UPCS domain: what a contact request is, its limits and rules. No framework imports."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from vigil.contact import addresses, phones
from vigil.errors import ErrorCollector
from vigil.text import text_problem

E = TypeVar("E", bound=StrEnum)


class RequesterType(StrEnum):
    VICTIM = "victim"
    ON_BEHALF_WITH_CONSENT = "on_behalf_with_consent"
    POLICE = "police"
    PROBATION = "probation"
    VICTIM_SERVICE = "victim_service"
    FRIEND_OR_FAMILY = "friend_or_family"


REQUESTER_LABELS: dict[RequesterType, str] = {
    RequesterType.VICTIM: "I am the person being contacted",
    RequesterType.ON_BEHALF_WITH_CONSENT: "Someone acting for them, with their consent",
    RequesterType.POLICE: "Police",
    RequesterType.PROBATION: "Probation",
    RequesterType.VICTIM_SERVICE: "A victim service or charity",
    RequesterType.FRIEND_OR_FAMILY: "A friend or relative",
}


class Consent(StrEnum):
    YES = "yes"
    NO = "no"
    NOT_ASKED = "not_asked"


CONSENT_LABELS: dict[Consent, str] = {
    Consent.YES: "Yes, they agreed to this request",
    Consent.NO: "No, they have not agreed",
    Consent.NOT_ASKED: "They have not been asked",
}


class ContactKind(StrEnum):
    CALLS = "calls"
    LETTERS = "letters"
    TEXTS_OR_SOCIAL_MEDIA = "texts_or_social_media"
    VIA_ANOTHER_PRISONER = "via_another_prisoner"


CONTACT_KIND_LABELS: dict[ContactKind, str] = {
    ContactKind.CALLS: "Phone calls",
    ContactKind.LETTERS: "Letters",
    ContactKind.TEXTS_OR_SOCIAL_MEDIA: "Texts or social media from an illicit phone",
    ContactKind.VIA_ANOTHER_PRISONER: "Contact through another prisoner",
}


class CaseStatus(StrEnum):
    NEW = "new"
    MATCHING = "matching"
    AWAITING_INFORMATION = "awaiting_information"
    BARRED = "barred"
    DECLINED = "declined"
    CLOSED = "closed"


OPEN_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.MATCHING, CaseStatus.AWAITING_INFORMATION})


class BarScope(StrEnum):
    PRISONER = "prisoner"
    ESTATE = "estate"


class ItemKind(StrEnum):
    PHONE = "phone"
    ADDRESS = "address"
    EMAIL = "email"


class AttemptKind(StrEnum):
    CALL = "call"
    LETTER = "letter"


class IntelligenceKind(StrEnum):
    ILLICIT_PHONE = "illicit_phone"
    CONTACT_VIA_PRISONER = "contact_via_prisoner"
    SOCIAL_MEDIA = "social_media"
    OTHER = "other"


INTELLIGENCE_LABELS: dict[IntelligenceKind, str] = {
    IntelligenceKind.ILLICIT_PHONE: "A prisoner is using an illicit mobile phone",
    IntelligenceKind.CONTACT_VIA_PRISONER: "Contact passed on through another prisoner",
    IntelligenceKind.SOCIAL_MEDIA: "Messages on social media",
    IntelligenceKind.OTHER: "Something else",
}

# Size limits on every field: the form and the JSON twin share them.
MAX_NAME = 200
MAX_EMAIL = 320
MAX_PHONE = 40
MAX_LINE = 200
MAX_LINES = 6
MAX_POSTCODE = 10
MAX_TEXT = 5000
MAX_SHORT_TEXT = 500
MAX_PEOPLE = 10
MAX_PHONES = 10
MAX_ADDRESSES = 5
MAX_EMAILS = 10
MAX_PRISON_NUMBER = 10
MAX_BODY_BYTES = 64 * 1024

PRISON_NUMBER = re.compile(r"^[A-Z][0-9]{4}[A-Z]{2}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Repeated attempts within this window raise an alert: evidence of a continuing campaign.
ATTEMPT_WINDOW = timedelta(hours=24)
ATTEMPT_THRESHOLD = 3


def new_reference() -> str:
    alphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
    return "UPC-" + "".join(secrets.choice(alphabet) for _ in range(8))


def normalise_prison_number(raw: str) -> str:
    return re.sub(r"\s+", "", raw).upper()


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def mask_name(name: str) -> str:
    """For lists: initials only, so a glance over a shoulder gives nothing away."""
    return " ".join(part[0] + "•••" for part in name.split() if part) or "•••"


@dataclass(frozen=True)
class Requester:
    type: RequesterType
    name: str | None
    email: str | None
    phone: str | None
    safe_contact: str | None = None


@dataclass(frozen=True)
class PostalAddress:
    lines: tuple[str, ...]
    postcode: str | None

    def parsed(self) -> addresses.Address:
        return addresses.from_lines(list(self.lines), self.postcode)


@dataclass(frozen=True)
class ProtectedPerson:
    name: str
    phones: tuple[str, ...] = ()  # E.164
    addresses: tuple[PostalAddress, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrisonerDetails:
    name: str | None = None
    date_of_birth: date | None = None
    prison_number: str | None = None
    prison: str | None = None


@dataclass(frozen=True)
class ContactSoFar:
    kinds: tuple[ContactKind, ...] = ()
    dates: str | None = None
    details: str | None = None


@dataclass(frozen=True)
class ContactRequest:
    requester: Requester
    consent: Consent
    protected_people: tuple[ProtectedPerson, ...]
    prisoner: PrisonerDetails
    contact: ContactSoFar = field(default_factory=ContactSoFar)


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


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 100 * len(ordered)) // 100))
    return ordered[min(rank, len(ordered)) - 1]


def sla_hours(submitted_at: datetime, barred_at: datetime | None, now: datetime) -> float:
    return ((barred_at or now) - submitted_at).total_seconds() / 3600


def neutralise_csv_cell(value: object) -> str:
    """Cells a spreadsheet would run as a formula are prefixed with a quote."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text
