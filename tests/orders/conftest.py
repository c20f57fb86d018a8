"""Registry tests use cheap (but real) argon2 parameters."""

from tests.people.registry import cheap_password_hashing

__all__ = ["cheap_password_hashing"]
