"""Security tables: users, sessions, API tokens and the hash-chained audit log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)

from vigil.db.metadata import UtcDateTime, metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(80), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    # Caseload scope: a probation officer's team, a police user's force area code.
    Column("team_id", Integer, nullable=True),
    Column("force_area", String(20), nullable=True),
    Column("email", String(320), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Second factor: the TOTP secret (field-encrypted), whether it is confirmed, and the last
    # 30-second step a code was accepted for (so each code works once).
    Column("totp_secret_enc", Text, nullable=True),
    Column("totp_enabled", Boolean, nullable=False, default=False, server_default=false()),
    Column("totp_last_step", BigInteger, nullable=True),
    # Single sign-on: "<issuer>|<subject>" of the identity provider's account, for users it
    # created; they have no usable password.
    Column("sso_subject", String(400), nullable=True, unique=True),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Index("ix_recovery_codes_user_id", "user_id"),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
    # For the idle time-out; refreshed at most once a minute, so reads stay reads.
    Column("last_seen_at", UtcDateTime, nullable=True),
)

# What a user chose to be told of new critical alerts on the alert queue page; no row means
# none of it (each is opt-in).
user_alert_preferences = Table(
    "user_alert_preferences",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("sound", Boolean, nullable=False),
    Column("desktop_notification", Boolean, nullable=False),
    Column("tab_title_count", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False),
    Column("role", String(40), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    # Tokens made before expiry existed have none; every new one has one.
    Column("expires_at", UtcDateTime, nullable=True),
)

# Counters shared by every web process: the public form's rate limit (hits per window) and
# sign-in throttling (consecutive failures, and how long the key is blocked).
throttle_counters = Table(
    "throttle_counters",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("window_start", UtcDateTime, nullable=False),
    Column("hits", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("blocked_until", UtcDateTime, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(80), nullable=False),
    Column("subject_type", String(60), nullable=False),
    Column("subject_id", String(80), nullable=True),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_subject", "subject_type", "subject_id"),
)
