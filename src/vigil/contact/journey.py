"""The public form's pages: what each asks, how its answers are checked, and where it leads.

Each step reads the posted form into the draft (a dict shaped like the JSON twin's body) and
reports errors by input name. The final check runs the same ``parse_request`` as the JSON twin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vigil.contact.model import (
    CONSENT_LABELS,
    MAX_NAME,
    MAX_SHORT_TEXT,
    REQUESTER_LABELS,
    RequesterType,
)
from vigil.contact.request_parsing import (
    parse_requester,
)
from vigil.errors import ErrorCollector

Form = Mapping[str, str | list[str]]
Errors = list[tuple[str, str]]


@dataclass
class Field:
    kind: str  # radios | checkboxes | text | textarea | date | hidden
    name: str
    label: str
    hint: str | None = None
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    autocomplete: str | None = None
    width: str = ""
    maxlength: int | None = None
    input_type: str = "text"


@dataclass(frozen=True)
class AddedPerson:
    """A person to protect already added, as the "You have added" list shows them."""

    index: int
    name: str
    given: str  # what was given for them, e.g. "2 phone numbers, 1 address"


@dataclass
class Page:
    slug: str
    title: str
    fields: list[Field]
    caption: str | None = None
    hint: str | None = None
    # Listed above the question, each with change and remove (GOV.UK "add another").
    people: list[AddedPerson] = field(default_factory=list)


def one_answer(form: Form, name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value


def many_answers(form: Form, name: str) -> list[str]:
    value = form.get(name, [])
    return value if isinstance(value, list) else [value]


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]


def mapped_errors(collector: ErrorCollector, names: Mapping[str, str]) -> Errors:
    """Model field paths to this page's input names (e.g. protected_people.0.phones.1 → phones)."""
    out: Errors = []
    for error in collector.errors:
        target = next(
            (name for prefix, name in names.items() if error.field.startswith(prefix)),
            error.field,
        )
        if target not in [f for f, _ in out]:
            out.append((target, error.reason))
    return out


def check_length(errors: Errors, name: str, text: str, limit: int) -> None:
    if len(text) > limit:
        errors.append((name, f"must be {limit} characters or fewer"))


# --- steps ----------------------------------------------------------------------------------


def who_page(draft: dict[str, Any]) -> Page:
    current = draft.get("requester", {}).get("type")
    return Page(
        "who",
        "Who is asking for the prisoner to be stopped?",
        [
            Field(
                "radios",
                "requester_type",
                "Who is asking for the prisoner to be stopped?",
                value=current,
                options=[(k.value, label) for k, label in REQUESTER_LABELS.items()],
            )
        ],
    )


def who_save(draft: dict[str, Any], form: Form) -> Errors:
    value = one_answer(form, "requester_type")
    collector = ErrorCollector()
    parse_requester(collector, {"type": value}, details=False)
    if collector.errors:
        return [("requester_type", "Select who is asking for the prisoner to be stopped")]
    draft.setdefault("requester", {})["type"] = value
    if value in (RequesterType.VICTIM.value, RequesterType.ON_BEHALF_WITH_CONSENT.value):
        draft["consent"] = "yes"
    return []


def consent_page(draft: dict[str, Any]) -> Page:
    return Page(
        "consent",
        "Does the person you are asking for know about this request?",
        [
            Field(
                "radios",
                "consent",
                "Does the person you are asking for know about this request?",
                hint="You can ask without their agreement. We look at each request on its own.",
                value=draft.get("consent"),
                options=[(k.value, label) for k, label in CONSENT_LABELS.items()],
            )
        ],
    )


def consent_save(draft: dict[str, Any], form: Form) -> Errors:
    value = one_answer(form, "consent")
    if value not in {c for c, _ in consent_page(draft).fields[0].options}:
        return [("consent", "Select whether the person knows about this request")]
    draft["consent"] = value
    return []


def details_page(draft: dict[str, Any]) -> Page:
    r = draft.get("requester", {})
    return Page(
        "your-details",
        "Your contact details",
        [
            Field(
                "text",
                "requester_name",
                "Full name",
                value=r.get("name"),
                autocomplete="name",
                maxlength=MAX_NAME,
            ),
            Field(
                "text",
                "requester_email",
                "Email address",
                value=r.get("email"),
                autocomplete="email",
                input_type="email",
                maxlength=320,
                hint="We will use this to tell you what happens to your request.",
            ),
            Field(
                "text",
                "requester_phone",
                "Phone number",
                value=r.get("phone"),
                autocomplete="tel",
                input_type="tel",
                width="govuk-input--width-20",
                hint="Give an email address, a phone number or both.",
                maxlength=40,
            ),
        ],
    )


def details_save(draft: dict[str, Any], form: Form) -> Errors:
    data = {
        "type": draft.get("requester", {}).get("type"),
        "name": one_answer(form, "requester_name"),
        "email": one_answer(form, "requester_email"),
        "phone": one_answer(form, "requester_phone"),
    }
    collector = ErrorCollector()
    # Who is asking was answered (or will be caught) on its own page; check only this page.
    parse_requester(collector, {**data, "type": data["type"] or RequesterType.VICTIM.value})
    errors = mapped_errors(
        collector,
        {
            "requester.name": "requester_name",
            "requester.email": "requester_email",
            "requester.phone": "requester_phone",
            "requester.type": "requester_name",
        },
    )
    if errors:
        return errors
    requester = draft.setdefault("requester", {})
    for key in ("name", "email", "phone"):
        requester[key] = data[key].strip() or None
    return []


def safe_page(draft: dict[str, Any]) -> Page:
    return Page(
        "safe-contact",
        "How and when is it safe to contact the person being protected?",
        [
            Field(
                "textarea",
                "safe_contact",
                "How and when is it safe to contact the person being protected? (optional)",
                hint="For example, 'text only, weekdays after 6pm'. Leave blank if we should "
                "only contact you.",
                value=draft.get("requester", {}).get("safe_contact"),
                maxlength=MAX_SHORT_TEXT,
            )
        ],
    )


def safe_save(draft: dict[str, Any], form: Form) -> Errors:
    text = one_answer(form, "safe_contact").strip()
    errors: Errors = []
    check_length(errors, "safe_contact", text, MAX_SHORT_TEXT)
    if not errors:
        draft.setdefault("requester", {})["safe_contact"] = text or None
    return errors


StepSave = Callable[[dict[str, Any], Form], Errors]
