"""The public form's pages: what each asks, how its answers are checked, and where it leads.

Each step reads the posted form into the draft (a dict shaped like the JSON twin's body) and
reports errors by input name. The final check runs the same ``parse_request`` as the JSON twin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vigil.contact.model import (
    CONSENT_LABELS,
    CONTACT_KIND_LABELS,
    MAX_EMAILS,
    MAX_LINE,
    MAX_NAME,
    MAX_PEOPLE,
    MAX_PHONES,
    MAX_POSTCODE,
    MAX_PRISON_NUMBER,
    MAX_SHORT_TEXT,
    MAX_TEXT,
    REQUESTER_LABELS,
    ContactKind,
    RequesterType,
)
from vigil.contact.request_parsing import (
    parse_address,
    parse_contact,
    parse_email,
    parse_phone,
    parse_prisoner,
    parse_requester,
)
from vigil.errors import ErrorCollector

Form = Mapping[str, str | list[str]]
Errors = list[tuple[str, str]]


@dataclass
class Field:
    kind: str  # radios | checkboxes | text | textarea | date
    name: str
    label: str
    hint: str | None = None
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    autocomplete: str | None = None
    width: str = ""
    maxlength: int | None = None
    input_type: str = "text"


@dataclass
class Page:
    slug: str
    title: str
    fields: list[Field]
    caption: str | None = None
    hint: str | None = None


def _one(form: Form, name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value


def _many(form: Form, name: str) -> list[str]:
    value = form.get(name, [])
    return value if isinstance(value, list) else [value]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]


def _mapped(collector: ErrorCollector, names: Mapping[str, str]) -> Errors:
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


def _too_long(errors: Errors, name: str, text: str, limit: int) -> None:
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
    value = _one(form, "requester_type")
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
    value = _one(form, "consent")
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
        "name": _one(form, "requester_name"),
        "email": _one(form, "requester_email"),
        "phone": _one(form, "requester_phone"),
    }
    collector = ErrorCollector()
    # Who is asking was answered (or will be caught) on its own page; check only this page.
    parse_requester(collector, {**data, "type": data["type"] or RequesterType.VICTIM.value})
    errors = _mapped(
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
                "How and when is it safe to contact the person being protected?",
                hint="For example, 'text only, weekdays after 6pm'. Leave blank if we should "
                "only contact you.",
                value=draft.get("requester", {}).get("safe_contact"),
                maxlength=MAX_SHORT_TEXT,
            )
        ],
    )


def safe_save(draft: dict[str, Any], form: Form) -> Errors:
    text = _one(form, "safe_contact").strip()
    errors: Errors = []
    _too_long(errors, "safe_contact", text, MAX_SHORT_TEXT)
    if not errors:
        draft.setdefault("requester", {})["safe_contact"] = text or None
    return errors


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
    )


def person_save(draft: dict[str, Any], form: Form, index: int) -> Errors:
    if index >= MAX_PEOPLE:
        return [("name", f"You can add up to {MAX_PEOPLE} people")]
    phones_text = _one(form, "phones")
    emails_text = _one(form, "emails")
    errors: Errors = []
    _too_long(errors, "phones", phones_text, MAX_PHONES * 41)
    _too_long(errors, "emails", emails_text, MAX_EMAILS * 321)
    if errors:
        return errors
    collector = ErrorCollector()
    name = _one(form, "name").strip()
    if not name:
        collector.add("name", "Enter their full name")
    elif len(name) > MAX_NAME:
        collector.add("name", f"Name must be {MAX_NAME} characters or fewer")
    phones: list[str] = []
    phone_lines = _lines(phones_text)
    if len(phone_lines) > MAX_PHONES:
        collector.add("phones", f"Enter {MAX_PHONES} numbers or fewer")
    for i, line in enumerate(phone_lines[:MAX_PHONES]):
        before = len(collector.errors)
        number = parse_phone(collector, line, "phones")
        if number:
            phones.append(number)
        elif len(collector.errors) > before:
            collector.errors[-1] = type(collector.errors[-1])(
                "phones", f"Line {i + 1}: enter a phone number, like 07700 900 982"
            )
    emails: list[str] = []
    email_lines = _lines(emails_text)
    if len(email_lines) > MAX_EMAILS:
        collector.add("emails", f"Enter {MAX_EMAILS} email addresses or fewer")
    for i, line in enumerate(email_lines[:MAX_EMAILS]):
        before = len(collector.errors)
        email = parse_email(collector, line, "emails")
        if email:
            emails.append(email)
        elif len(collector.errors) > before:
            collector.errors[-1] = type(collector.errors[-1])(
                "emails", f"Line {i + 1}: enter an email address, like name@example.com"
            )
    errors = _mapped(collector, {})
    if errors:
        return errors
    person = _person(draft, index)
    person.update(name=name, phones=phone_lines, emails=email_lines)
    return []


def address_page(draft: dict[str, Any], index: int) -> Page:
    person = _person(draft, index)
    first = (person.get("addresses") or [{}])[0] if person.get("addresses") else {}
    lines = first.get("lines", []) if first else []
    return Page(
        f"person/{index}/address",
        f"What is {person.get('name') or 'their'}'s address?",
        [
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
                "Town or city",
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
            Field(
                "textarea",
                "other_addresses",
                "Any other addresses they live or stay at (optional)",
                hint="Put each address on its own line, with its postcode, "
                "for example '4 Mill Lane, Leeds, LS1 4AB'.",
                value="\n".join(
                    ", ".join([*a["lines"], a.get("postcode") or ""]).strip(", ")
                    for a in (person.get("addresses") or [])[1:]
                ),
                maxlength=4 * (MAX_LINE * 3 + MAX_POSTCODE),
            ),
        ],
        caption="The people to protect",
        hint="Leave this page blank if you only want to stop calls and emails.",
    )


def address_save(draft: dict[str, Any], form: Form, index: int) -> Errors:
    person = _person(draft, index)
    values = {k: _one(form, k).strip() for k in ("line1", "line2", "town", "postcode")}
    others_text = _one(form, "other_addresses")
    errors: Errors = []
    _too_long(errors, "other_addresses", others_text, 4 * (MAX_LINE * 3 + MAX_POSTCODE))
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
    for i, line in enumerate(_lines(others_text)):
        parts = [p.strip() for p in line.split(",") if p.strip()]
        if parse_address(collector, {"lines": parts, "postcode": None}, f"other.{i}"):
            found.append({"lines": parts, "postcode": None})
    errors = _mapped(
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
    count = len(draft.get("protected_people", []))
    return Page(
        "another-person",
        "Do you need to add another person?",
        [
            Field(
                "radios",
                "another",
                "Do you need to add another person?",
                hint=f"You have added {count} {'person' if count == 1 else 'people'}. Add "
                "children or relatives the prisoner might contact instead.",
                options=[("yes", "Yes"), ("no", "No")],
            )
        ],
    )


def prisoner_page(draft: dict[str, Any]) -> Page:
    p = draft.get("prisoner", {})
    dob = p.get("date_of_birth") or ""
    year, month, day = ([*dob.split("-"), "", "", ""])[:3] if dob else ("", "", "")
    return Page(
        "prisoner",
        "Who is the prisoner?",
        [
            Field(
                "text",
                "prisoner_name",
                "Full name",
                value=p.get("name"),
                maxlength=MAX_NAME,
                hint="Include any other names they use.",
            ),
            Field(
                "date",
                "dob",
                "Date of birth (optional)",
                hint="For example, 27 3 1985",
                value={"day": day, "month": month, "year": year},
            ),
            Field(
                "text",
                "prison_number",
                "Prison number (optional)",
                value=p.get("prison_number"),
                hint="This is a letter, 4 numbers and 2 letters, like A1234BC",
                width="govuk-input--width-10",
                maxlength=MAX_PRISON_NUMBER + 5,
            ),
            Field(
                "text",
                "prison",
                "Prison (optional)",
                value=p.get("prison"),
                maxlength=MAX_NAME,
                width="govuk-!-width-two-thirds",
            ),
        ],
    )


def prisoner_save(draft: dict[str, Any], form: Form, today: date) -> Errors:
    day, month, year = (_one(form, f"dob_{k}").strip() for k in ("day", "month", "year"))
    errors: Errors = []
    dob: str | None = None
    if day or month or year:
        try:
            dob = date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            errors.append(("dob", "Date of birth must be a real date, like 27 3 1985"))
    data = {
        "name": _one(form, "prisoner_name"),
        "date_of_birth": dob,
        "prison_number": _one(form, "prison_number"),
        "prison": _one(form, "prison"),
    }
    collector = ErrorCollector()
    parsed = parse_prisoner(collector, data, today)
    errors += _mapped(
        collector,
        {
            "prisoner.name": "prisoner_name",
            "prisoner.date_of_birth": "dob",
            "prisoner.prison_number": "prison_number",
            "prisoner.prison": "prison",
        },
    )
    if errors:
        return errors
    draft["prisoner"] = {
        "name": parsed.name,
        "date_of_birth": parsed.date_of_birth.isoformat() if parsed.date_of_birth else None,
        "prison_number": parsed.prison_number,
        "prison": parsed.prison,
    }
    return []


def contact_page(draft: dict[str, Any]) -> Page:
    c = draft.get("contact", {})
    return Page(
        "contact-so-far",
        "How has the prisoner contacted them?",
        [
            Field(
                "checkboxes",
                "kinds",
                "How has the prisoner contacted them?",
                hint="Select all that apply.",
                value=c.get("kinds", []),
                options=[(k.value, label) for k, label in CONTACT_KIND_LABELS.items()],
            ),
            Field(
                "text",
                "dates",
                "When did it happen? (optional)",
                value=c.get("dates"),
                hint="For example, 'most nights since March'",
                maxlength=MAX_SHORT_TEXT,
            ),
            Field(
                "textarea",
                "details",
                "Tell us what happened (optional)",
                value=c.get("details"),
                maxlength=MAX_TEXT,
            ),
        ],
    )


def contact_save(draft: dict[str, Any], form: Form) -> Errors:
    data = {
        "kinds": _many(form, "kinds"),
        "dates": _one(form, "dates"),
        "details": _one(form, "details"),
    }
    collector = ErrorCollector()
    parsed = parse_contact(collector, data)
    errors = _mapped(
        collector,
        {"contact.kinds": "kinds", "contact.dates": "dates", "contact.details": "details"},
    )
    if not parsed.kinds and not errors:
        errors.append(("kinds", "Select how the prisoner has contacted them"))
    if errors:
        return errors
    draft["contact"] = {
        "kinds": [k.value for k in parsed.kinds],
        "dates": parsed.dates,
        "details": parsed.details,
    }
    return []


StepSave = Callable[[dict[str, Any], Form], Errors]
KIND_VALUES = [k.value for k in ContactKind]
