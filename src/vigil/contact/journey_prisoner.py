"""The public form's questions about the prisoner and the contact so far."""

from __future__ import annotations

from datetime import date
from typing import Any

from vigil.contact.journey import Errors, Field, Form, Page, many_answers, mapped_errors, one_answer
from vigil.contact.model import (
    CONTACT_KIND_LABELS,
    MAX_NAME,
    MAX_PRISON_NUMBER,
    MAX_SHORT_TEXT,
    MAX_TEXT,
    ContactKind,
)
from vigil.contact.request_parsing import (
    parse_contact,
    parse_prisoner,
)
from vigil.errors import ErrorCollector


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
    day, month, year = (one_answer(form, f"dob_{k}").strip() for k in ("day", "month", "year"))
    errors: Errors = []
    dob: str | None = None
    if day or month or year:
        try:
            dob = date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            errors.append(("dob", "Date of birth must be a real date, like 27 3 1985"))
    data = {
        "name": one_answer(form, "prisoner_name"),
        "date_of_birth": dob,
        "prison_number": one_answer(form, "prison_number"),
        "prison": one_answer(form, "prison"),
    }
    collector = ErrorCollector()
    parsed = parse_prisoner(collector, data, today)
    errors += mapped_errors(
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
        "kinds": many_answers(form, "kinds"),
        "dates": one_answer(form, "dates"),
        "details": one_answer(form, "details"),
    }
    collector = ErrorCollector()
    parsed = parse_contact(collector, data)
    errors = mapped_errors(
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


KIND_VALUES = [k.value for k in ContactKind]
