"""UPCS tables. Protected people's and requesters' details are stored encrypted; barred numbers
and addresses are found through blind indexes, never plaintext."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from vigil.db.metadata import UtcDateTime, metadata

contact_cases = Table(
    "contact_cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(20), nullable=False, unique=True),
    Column("status", String(30), nullable=False),
    Column("channel", String(10), nullable=False),  # form | api
    Column("requester_type", String(40), nullable=False),
    Column("consent", String(20), nullable=False),
    # The whole request as submitted (requester, prisoner, contact so far), encrypted.
    Column("request_enc", Text, nullable=False),
    # Blind index of the requester's email or phone: counts unique requesters without storing them.
    Column("requester_index", String(64), nullable=True),
    Column("prison_number", String(10), nullable=True),  # as given by the requester
    Column("matched_prisoner_id", Integer, nullable=True),
    Column("matched_prison_number", String(10), nullable=True),
    Column("assigned_to", String(200), nullable=True),
    Column("decision_reason_enc", Text, nullable=True),
    Column("review_date", Date, nullable=True),
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("barred_at", UtcDateTime(), nullable=True),
    Index("ix_contact_cases_status", "status", "submitted_at"),
    Index("ix_contact_cases_matched", "matched_prison_number"),
)

contact_protected_people = Table(
    "contact_protected_people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("details_enc", Text, nullable=False),  # name, phones, addresses, emails
)

contact_notes = Table(
    "contact_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, nullable=False, index=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("kind", String(30), nullable=False),  # note | decision | status | attempt
    Column("text_enc", Text, nullable=False),
)

contact_prisoners = Table(
    "contact_prisoners",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("prison_number", String(10), nullable=False, unique=True),
    Column("forenames", String(200), nullable=False),
    Column("surname", String(200), nullable=False),
    Column("aliases", Text, nullable=False),  # JSON list
    Column("date_of_birth", Date, nullable=True),
    Column("establishment", String(200), nullable=True),
    Column("release_date", Date, nullable=True),
    Column("imported_at", UtcDateTime(), nullable=False),
)

contact_bars = Table(
    "contact_bars",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, nullable=False, index=True),
    Column("scope", String(10), nullable=False),
    Column("prison_number", String(10), nullable=True),
    Column("reason_enc", Text, nullable=False),
    Column("review_date", Date, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("lifted_at", UtcDateTime(), nullable=True),
    Column("lifted_by", String(200), nullable=True),
    Column("lift_reason_enc", Text, nullable=True),
)

contact_bar_items = Table(
    "contact_bar_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bar_id", Integer, nullable=False, index=True),
    Column("case_id", Integer, nullable=False),
    Column("kind", String(10), nullable=False),  # phone | address | email
    Column("scope", String(10), nullable=False),
    Column("prison_number", String(10), nullable=True),
    Column("value_enc", Text, nullable=False),
    # Exact lookup: E.164 number, lower-cased email, or the address key (postcode|building|flat).
    Column("match_index", String(64), nullable=False),
    # Address parts, each a blind index, for the mail-room comparison.
    Column("postcode_index", String(64), nullable=True),
    Column("street_index", String(64), nullable=True),
    Column("building_index", String(64), nullable=True),
    Column("flat_index", String(64), nullable=True),
    Column("town_index", String(64), nullable=True),
    Column("active", Boolean, nullable=False),
    Index("ix_contact_bar_items_match", "kind", "match_index", "active"),
    Index("ix_contact_bar_items_postcode", "postcode_index", "active"),
)

# Every addition and removal of a barred item, in order: the delta feed's cursor is ``seq``.
contact_bar_changes = Table(
    "contact_bar_changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("change", String(10), nullable=False),  # added | removed
    Column("item_id", Integer, nullable=False),
    Column("kind", String(10), nullable=False),
)

contact_attempts = Table(
    "contact_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(10), nullable=False),  # call | letter
    Column("prison_number", String(10), nullable=False),
    Column("case_id", Integer, nullable=False),
    Column("bar_id", Integer, nullable=False),
    Column("item_id", Integer, nullable=False),
    Column("actor", String(200), nullable=False),
    Index("ix_contact_attempts_prisoner", "prison_number", "kind", "at"),
    Index("ix_contact_attempts_case", "case_id", "at"),
)

contact_alerts = Table(
    "contact_alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("case_id", Integer, nullable=False, index=True),
    Column("prison_number", String(10), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("message", String(300), nullable=False),
    Column("acknowledged_at", UtcDateTime(), nullable=True),
    Column("acknowledged_by", String(200), nullable=True),
)

# Messages for requesters and case handlers waiting for a delivery channel.
contact_notifications = Table(
    "contact_notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("case_id", Integer, nullable=False, index=True),
    Column("audience", String(20), nullable=False),  # requester | case_handler
    Column("channel", String(10), nullable=False),  # email | sms | queue
    Column("recipient_enc", Text, nullable=True),
    Column("body_enc", Text, nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
)

contact_intelligence = Table(
    "contact_intelligence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("source", String(10), nullable=False),  # public | staff
    Column("queue", String(30), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("prison_number", String(10), nullable=True),
    Column("phone_index", String(64), nullable=True),
    Column("details_enc", Text, nullable=False),
    Column("case_id", Integer, nullable=True, index=True),
    Column("status", String(20), nullable=False),  # new | reviewed
    Column("reported_by", String(200), nullable=True),
)

# Form journeys in progress: the cookie holds a random token, only its hash is stored here.
contact_drafts = Table(
    "contact_drafts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("data_enc", Text, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)
