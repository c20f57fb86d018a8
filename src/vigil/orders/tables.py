"""Orders tables: orders, their versions, conditions, and pilot eligibility decisions.

``person_id`` and ``responsible_officer_id`` are the people part's ids (no cross-part keys).
A condition lives from the version that added it until the version that removed it, so an
unchanged condition keeps its identity (and its violations) across variations.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from vigil.db.metadata import UtcDateTime, metadata

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, nullable=False, index=True),
    Column("pilot", String(30), nullable=False),
    Column("responsible_officer_id", Integer, nullable=True),
    # The dates of the latest version, kept here for listing; versions hold the history.
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
)

order_versions = Table(
    "order_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("effective_at", UtcDateTime, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    UniqueConstraint("order_id", "number", name="uq_order_versions_order_number"),
)

conditions = Table(
    "conditions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "order_id", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("type", String(30), nullable=False),
    Column("params", JSON, nullable=False),
    Column("added_in_version", Integer, nullable=False),
    Column("removed_in_version", Integer, nullable=True),
)

eligibility_decisions = Table(
    "eligibility_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, nullable=False, index=True),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("decided_by", String(200), nullable=False),
    Column("region_code", String(10), nullable=True),
    Column("eligible", Boolean, nullable=False),
    # [{"rule", "passed", "reason"}, ...] in rule order.
    Column("outcomes", JSON, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("proportionality_note", Text, nullable=False),
)
