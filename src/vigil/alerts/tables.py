"""Alert tables: alerts and their history, the delivery outbox and its attempts, suppression
windows, and the approach warnings pattern detection counts. Other parts' ids are stored as
strings, without foreign keys."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from vigil.db.metadata import UtcDateTime, metadata

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    # One alert per engine episode (later events update it); pattern alerts get a synthetic key.
    Column("episode_id", String(120), nullable=False, unique=True),
    Column("source", String(20), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("escalated", Boolean, nullable=False, default=False),
    Column("escalation_level", Integer, nullable=False, default=0),
    # Stored and indexed so a restart loses no escalation: the timer loop reads due rows.
    Column("next_escalation_at", UtcDateTime, nullable=True, index=True),
    Column("person_id", String(64), nullable=False, index=True),
    Column("condition_id", String(64), nullable=True),
    # Caseload scope, copied from the registry when raised, so listing needs no cross-part join.
    Column("managing_team_id", Integer, nullable=True),
    Column("force_area", String(20), nullable=True),
    Column("risk_level", String(20), nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("retrospective", Boolean, nullable=False, default=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("detail", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("acknowledged_by", String(200), nullable=True),
    # Who is working the alert, shown to every operator so two do not take the same call.
    Column("claimed_by", String(200), nullable=True),
    Column("claimed_at", UtcDateTime, nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("resolved_by", String(200), nullable=True),
    Column("outcome", String(30), nullable=True),
    Column("resolution_note", Text, nullable=True),
    Index("ix_alerts_status_severity", "status", "severity"),
)

alert_history = Table(
    "alert_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(30), nullable=False),
    Column("from_status", String(20), nullable=True),
    Column("to_status", String(20), nullable=False),
    Column("note", Text, nullable=True),
    Column("detail", JSON, nullable=False),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", Integer, nullable=True, index=True),
    Column("channel", String(40), nullable=False),
    Column("recipient", String(400), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", JSON, nullable=False),
    # Receivers drop duplicates by this key: delivery is at least once.
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    # A claim is a lease: a worker killed mid-delivery leaves it to expire, then it is retried.
    Column("claimed_by", String(80), nullable=True),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_alert_deliveries_due", "channel", "status", "next_attempt_at"),
    Index("ix_alert_deliveries_recipient", "channel", "recipient", "created_at"),
)

alert_delivery_attempts = Table(
    "alert_delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("delivery_id", Integer, ForeignKey("alert_deliveries.id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(80), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text, nullable=True),
)

alert_suppressions = Table(
    "alert_suppressions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", String(64), nullable=False),
    # None: every condition of the person's orders.
    Column("condition_id", String(64), nullable=True),
    Column("order_id", String(64), nullable=True),
    Column("kind", String(30), nullable=False),
    Column("reason", Text, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("cancelled_by", String(200), nullable=True),
    Index("ix_alert_suppressions_person", "person_id", "starts_at"),
)

alert_approach_warnings = Table(
    "alert_approach_warnings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("episode_id", String(120), nullable=False, unique=True),
    Column("person_id", String(64), nullable=False),
    Column("condition_id", String(64), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_alert_approach_warnings_person", "person_id", "condition_id", "at"),
)

# A protected person's consent to be told, by text, that an alert about their safety was raised.
# The registry holds who they are; this only records the choice (by the registry's id).
alert_protected_optins = Table(
    "alert_protected_optins",
    metadata,
    Column("protected_person_id", String(64), primary_key=True),
    Column("opted_in", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
)
