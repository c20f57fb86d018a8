"""Password hashing with argon2id."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10

_hashers = {"service": PasswordHasher()}  # argon2id, the library's recommended parameters


def use_fast_hashing_for_tests() -> None:
    """Cheap argon2id parameters so a test suite can create hundreds of users; never in service."""
    _hashers["service"] = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _dummy_hash.cache_clear()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password: must be at least {MIN_PASSWORD_LENGTH} characters")
    return _hashers["service"].hash(password)


@cache
def _dummy_hash() -> str:
    return _hashers["service"].hash("not-a-real-password-for-timing")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) still do the work, so timing tells nothing."""
    try:
        ok = _hashers["service"].verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and password_hash is not None
