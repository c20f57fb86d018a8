"""UPCS domain: what a contact request is, its limits and rules. No framework imports."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from vigil.contact import addresses

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


# The choices' labels keyed by their stored values, as the pages' templates look them up.
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "requester_types": {k.value: v for k, v in REQUESTER_LABELS.items()},
    "consents": {k.value: v for k, v in CONSENT_LABELS.items()},
    "kinds": {k.value: v for k, v in CONTACT_KIND_LABELS.items()},
    "intelligence": {k.value: v for k, v in INTELLIGENCE_LABELS.items()},
}
