"""Errors every part raises: bad input naming the field and reason, and not-found."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class ValidationError(ValueError):
    """Bad input. Carries every problem found, each naming its field and the reason."""

    def __init__(self, field_or_errors: str | list[FieldError], reason: str | None = None) -> None:
        if isinstance(field_or_errors, str):
            errors = [FieldError(field_or_errors, reason or "is not valid")]
        else:
            errors = list(field_or_errors)
        if not errors:
            raise ValueError("a ValidationError needs at least one FieldError")
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors

    @property
    def field(self) -> str:
        return self.errors[0].field

    @property
    def reason(self) -> str:
        return self.errors[0].reason


class ErrorCollector:
    """Collects field errors so a form or body reports all its problems at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, reason: str) -> None:
        self.errors.append(FieldError(field, reason))

    def check(self, condition: bool, field: str, reason: str) -> None:
        if not condition:
            self.add(field, reason)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


class NotFound(LookupError):
    """The thing does not exist, or exists outside the caller's scope (same answer either way)."""
