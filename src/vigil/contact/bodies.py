"""The JSON bodies of the contact API, as the published contract describes them.

These models say what shape a body has (so ``/openapi.json`` documents every field and a body of
the wrong shape is refused naming the field); the rules of the service (a real postcode, a prison
number like A1234BC, who must be asked for consent) stay in ``contact.model`` and the use-case
modules (``contact.intake``, ``contact.bars`` …), shared with the public form, which reports
them in the form's own words.
Closed lists are published as enums but checked by those rules, for the same reason.

Fields the service requires are still optional here: a missing one is reported by the service,
which checks the caller's role first and names the field in the service's words.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vigil.contact.checks import CallResult
from vigil.contact.model import (
    MAX_ADDRESSES,
    MAX_EMAILS,
    MAX_PEOPLE,
    MAX_PHONES,
    BarScope,
    Consent,
    ContactKind,
    IntelligenceKind,
    RequesterType,
)

# Case actions, checks and reports are small; the check port applies the same cap.
CALL_CHECK_MAX_BODY = 16 * 1024


def _one_of(kind: type[Any]) -> dict[str, Any]:
    return {"enum": [member.value for member in kind]}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def as_json(self) -> dict[str, Any]:
        """What the client sent, for the service's own checks (absent stays absent)."""
        return self.model_dump(mode="json", exclude_unset=True)


class Address(Body):
    lines: list[str] = Field(default_factory=list, max_length=6)
    postcode: str | None = None


class Requester(Body):
    type: str | None = Field(default=None, json_schema_extra=_one_of(RequesterType))
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    safe_contact: str | None = None


class ProtectedPerson(Body):
    name: str | None = None
    phones: list[str] = Field(default_factory=list, max_length=MAX_PHONES)
    emails: list[str] = Field(default_factory=list, max_length=MAX_EMAILS)
    addresses: list[Address] = Field(default_factory=list, max_length=MAX_ADDRESSES)


class Prisoner(Body):
    name: str | None = None
    date_of_birth: str | None = Field(default=None, description="YYYY-MM-DD")
    prison_number: str | None = None
    prison: str | None = None


class ContactSoFar(Body):
    kinds: list[str] = Field(
        default_factory=list,
        max_length=len(ContactKind),
        json_schema_extra={"items": _one_of(ContactKind)},
    )
    dates: str | None = None
    details: str | None = None


class ContactRequest(Body):
    """A request to stop a prisoner contacting the people it names (the public form's twin)."""

    requester: Requester | None = None
    consent: str | None = Field(default=None, json_schema_extra=_one_of(Consent))
    protected_people: list[ProtectedPerson] = Field(default_factory=list, max_length=MAX_PEOPLE)
    prisoner: Prisoner | None = None
    contact: ContactSoFar | None = None


class Intelligence(Body):
    kind: str | None = Field(default=None, json_schema_extra=_one_of(IntelligenceKind))
    prison_number: str | None = None
    phone: str | None = None
    details: str | None = None


class MailCheck(Body):
    prison_number: str | None = None
    address: str | None = None


class CallCheck(Body):
    """Published for the dial-time check, which parses its small body itself for speed."""

    prison_number: str
    number: str


class CallCheckAnswer(BaseModel):
    allowed: bool
    reason: str | None
    number: str


class Match(Body):
    prisoner_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class Bar(Body):
    scope: str | None = Field(default=None, json_schema_extra=_one_of(BarScope))
    prison_number: str | None = None
    numbers: list[str] = Field(default_factory=list, max_length=50)
    emails: list[str] = Field(default_factory=list, max_length=50)
    addresses: list[Address | str] = Field(default_factory=list, max_length=20)
    reason: str | None = None
    review_date: str | None = Field(default=None, description="YYYY-MM-DD")


class Reason(Body):
    reason: str | None = None


class Question(Body):
    question: str | None = None


class Note(Body):
    text: str | None = None


def call_check_body(result: CallResult) -> bytes:
    """``{"allowed", "reason", "number"}`` without a general-purpose encoder (E.164 is safe)."""
    if result.allowed:
        return b'{"allowed":true,"reason":null,"number":"' + result.e164.encode() + b'"}'
    return json.dumps(
        {"allowed": False, "reason": result.reason, "number": result.e164}, separators=(",", ":")
    ).encode()
