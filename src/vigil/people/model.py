"""People: who the registry knows, and the rules their records must keep. No framework imports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import phonenumbers

from vigil.errors import ErrorCollector


class RiskLevel(StrEnum):
    """Risk of serious harm (RoSH), as assessed by probation."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


HIGH_RISK_LEVELS = frozenset({RiskLevel.HIGH, RiskLevel.VERY_HIGH})


class Relationship(StrEnum):
    """How a protected person relates to the person they are protected from."""

    PARTNER = "partner"
    FORMER_PARTNER = "former_partner"
    CHILD = "child"
    RELATIVE = "relative"
    OTHER = "other"


PROTECTED_FIELDS = ("full_name", "address", "phone", "email")


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True)
class ForceArea:
    code: str
    name: str
    region_code: str


# Probation regions and police force areas. The pilot runs in the East and West Midlands; London
# is here because persons move and orders are transferred.
REGIONS: tuple[Region, ...] = (
    Region("EM", "East Midlands"),
    Region("WM", "West Midlands"),
    Region("LDN", "London"),
)
FORCE_AREAS: tuple[ForceArea, ...] = (
    ForceArea("WMP", "West Midlands Police", "WM"),
    ForceArea("WAR", "Warwickshire Police", "WM"),
    ForceArea("STA", "Staffordshire Police", "WM"),
    ForceArea("WMC", "West Mercia Police", "WM"),
    ForceArea("NOT", "Nottinghamshire Police", "EM"),
    ForceArea("LEI", "Leicestershire Police", "EM"),
    ForceArea("DER", "Derbyshire Constabulary", "EM"),
    ForceArea("LIN", "Lincolnshire Police", "EM"),
    ForceArea("NTH", "Northamptonshire Police", "EM"),
    ForceArea("MPS", "Metropolitan Police Service", "LDN"),
    ForceArea("COL", "City of London Police", "LDN"),
)
# Regions in which the domestic-abuse tagging pilot runs.
PILOT_REGIONS = frozenset({"EM", "WM"})

PNC_RE = re.compile(r"^\d{2}(\d{2})?/\d{1,7}[A-Z]$")
PRISON_NUMBER_RE = re.compile(r"^[A-Z]\d{4}[A-Z]{2}$")
CRN_RE = re.compile(r"^[A-Z]\d{6}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_MAX = 120


@dataclass
class PersonDraft:
    """What a caller supplies to create or change a person."""

    first_name: str
    last_name: str
    date_of_birth: date
    managing_team_id: int | None
    force_area: str | None
    risk_level: RiskLevel | str
    pnc_id: str | None = None
    prison_number: str | None = None
    crn: str | None = None
    aliases: list[str] = field(default_factory=list)
    home_address: str | None = None
    prison_code: str | None = None


def normalise_id(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.strip().upper().replace(" ", "")
    return cleaned or None


def check_person(draft: PersonDraft, today: date, errors: ErrorCollector) -> None:
    """Add every problem with a person's record to ``errors``; normalise ids in place."""
    for name in ("first_name", "last_name"):
        value = getattr(draft, name).strip()
        setattr(draft, name, value)
        errors.check(bool(value), name, "is required")
        errors.check(len(value) <= NAME_MAX, name, f"must be at most {NAME_MAX} characters")
    if draft.date_of_birth >= today:
        errors.add("date_of_birth", "must be in the past")
    elif draft.date_of_birth.year < 1900:
        errors.add("date_of_birth", "must be after 1900")
    try:
        draft.risk_level = RiskLevel(draft.risk_level)
    except ValueError:
        errors.add("risk_level", f"must be one of {', '.join(RiskLevel)}")
    draft.pnc_id = normalise_id(draft.pnc_id)
    draft.prison_number = normalise_id(draft.prison_number)
    draft.crn = normalise_id(draft.crn)
    if draft.pnc_id and not PNC_RE.match(draft.pnc_id):
        errors.add("pnc_id", "must look like 2012/0052494L (year / serial + check letter)")
    if draft.prison_number and not PRISON_NUMBER_RE.match(draft.prison_number):
        errors.add("prison_number", "must look like A1234BC")
    if draft.crn and not CRN_RE.match(draft.crn):
        errors.add("crn", "must look like X123456 (a letter and six digits)")
    if not (draft.pnc_id or draft.prison_number or draft.crn):
        errors.add("crn", "at least one external id (PNC id, prison number or CRN) is required")
    draft.aliases = [alias.strip() for alias in draft.aliases if alias.strip()]
    for index, alias in enumerate(draft.aliases):
        errors.check(len(alias) <= NAME_MAX * 2, f"aliases[{index}]", "is too long")
    if draft.managing_team_id is None and not draft.force_area:
        errors.add("managing_team_id", "a person needs a managing team or a force area")
    if draft.force_area is not None:
        draft.force_area = draft.force_area.strip().upper() or None


@dataclass
class ProtectedPersonDraft:
    full_name: str
    relationship: Relationship | str
    address: str | None = None
    phone: str | None = None
    email: str | None = None


def normalise_phone(raw: str) -> str:
    """E.164, reading national numbers as UK; raises ValueError if it is not a real number."""
    try:
        parsed = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(str(exc)) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def check_protected_person(draft: ProtectedPersonDraft, errors: ErrorCollector) -> None:
    draft.full_name = draft.full_name.strip()
    errors.check(bool(draft.full_name), "full_name", "is required")
    errors.check(len(draft.full_name) <= NAME_MAX * 2, "full_name", "is too long")
    try:
        draft.relationship = Relationship(draft.relationship)
    except ValueError:
        errors.add("relationship", f"must be one of {', '.join(Relationship)}")
    if draft.address is not None:
        draft.address = draft.address.strip() or None
        if draft.address and len(draft.address) > 500:
            errors.add("address", "must be at most 500 characters")
    if draft.phone is not None and draft.phone.strip():
        try:
            draft.phone = normalise_phone(draft.phone)
        except ValueError:
            errors.add("phone", "is not a valid phone number")
    else:
        draft.phone = None
    if draft.email is not None and draft.email.strip():
        draft.email = draft.email.strip()
        errors.check(bool(EMAIL_RE.match(draft.email)), "email", "is not an email address")
    else:
        draft.email = None


def age_on(date_of_birth: date, on: date) -> int:
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years
