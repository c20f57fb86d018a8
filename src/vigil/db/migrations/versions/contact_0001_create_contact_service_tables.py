"""create contact service tables: cases, protected people, prisoner register, bars, attempts

Revision ID: contact_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "contact_0001"
down_revision = "0001"
branch_labels = ("contact",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("raised_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("prison_number", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("acknowledged_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_alerts")),
    )
    op.create_index("ix_contact_alerts_case_id", "contact_alerts", ["case_id"], unique=False)
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("prison_number", sa.String(length=10), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("bar_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_attempts")),
    )
    op.create_index("ix_contact_attempts_case", "contact_attempts", ["case_id", "at"], unique=False)
    op.create_index(
        "ix_contact_attempts_prisoner",
        "contact_attempts",
        ["prison_number", "kind", "at"],
        unique=False,
    )
    op.create_table(
        "contact_bar_changes",
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_contact_bar_changes")),
    )
    op.create_table(
        "contact_bar_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bar_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("prison_number", sa.String(length=10), nullable=True),
        sa.Column("value_enc", sa.Text(), nullable=False),
        sa.Column("match_index", sa.String(length=64), nullable=False),
        sa.Column("postcode_index", sa.String(length=64), nullable=True),
        sa.Column("street_index", sa.String(length=64), nullable=True),
        sa.Column("building_index", sa.String(length=64), nullable=True),
        sa.Column("flat_index", sa.String(length=64), nullable=True),
        sa.Column("town_index", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_bar_items")),
    )
    op.create_index(
        "ix_contact_bar_items_match",
        "contact_bar_items",
        ["kind", "match_index", "active"],
        unique=False,
    )
    op.create_index("ix_contact_bar_items_bar_id", "contact_bar_items", ["bar_id"], unique=False)
    op.create_index(
        "ix_contact_bar_items_postcode",
        "contact_bar_items",
        ["postcode_index", "active"],
        unique=False,
    )
    op.create_table(
        "contact_bars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("prison_number", sa.String(length=10), nullable=True),
        sa.Column("reason_enc", sa.Text(), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("created_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("lifted_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        sa.Column("lift_reason_enc", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_bars")),
    )
    op.create_index("ix_contact_bars_case_id", "contact_bars", ["case_id"], unique=False)
    op.create_table(
        "contact_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("requester_type", sa.String(length=40), nullable=False),
        sa.Column("consent", sa.String(length=20), nullable=False),
        sa.Column("request_enc", sa.Text(), nullable=False),
        sa.Column("requester_index", sa.String(length=64), nullable=True),
        sa.Column("prison_number", sa.String(length=10), nullable=True),
        sa.Column("matched_prisoner_id", sa.Integer(), nullable=True),
        sa.Column("matched_prison_number", sa.String(length=10), nullable=True),
        sa.Column("assigned_to", sa.String(length=200), nullable=True),
        sa.Column("decision_reason_enc", sa.Text(), nullable=True),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("submitted_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("barred_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_cases")),
        sa.UniqueConstraint("reference", name=op.f("uq_contact_cases_reference")),
    )
    op.create_index(
        "ix_contact_cases_matched", "contact_cases", ["matched_prison_number"], unique=False
    )
    op.create_index(
        "ix_contact_cases_status", "contact_cases", ["status", "submitted_at"], unique=False
    )
    op.create_table(
        "contact_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("data_enc", sa.Text(), nullable=False),
        sa.Column("expires_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_drafts")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_contact_drafts_token_hash")),
    )
    op.create_table(
        "contact_intelligence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("queue", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("prison_number", sa.String(length=10), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("details_enc", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reported_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_intelligence")),
    )
    op.create_index(
        "ix_contact_intelligence_case_id", "contact_intelligence", ["case_id"], unique=False
    )
    op.create_table(
        "contact_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("text_enc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_notes")),
    )
    op.create_index("ix_contact_notes_case_id", "contact_notes", ["case_id"], unique=False)
    op.create_table(
        "contact_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient_enc", sa.Text(), nullable=True),
        sa.Column("body_enc", sa.Text(), nullable=False),
        sa.Column("sent_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_notifications")),
    )
    op.create_index(
        "ix_contact_notifications_case_id", "contact_notifications", ["case_id"], unique=False
    )
    op.create_table(
        "contact_prisoners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prison_number", sa.String(length=10), nullable=False),
        sa.Column("forenames", sa.String(length=200), nullable=False),
        sa.Column("surname", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("establishment", sa.String(length=200), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("imported_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_prisoners")),
        sa.UniqueConstraint("prison_number", name=op.f("uq_contact_prisoners_prison_number")),
    )
    op.create_table(
        "contact_protected_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("details_enc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_protected_people")),
    )
    op.create_index(
        "ix_contact_protected_people_case_id", "contact_protected_people", ["case_id"], unique=False
    )


def downgrade() -> None:
    for table in (
        "contact_protected_people",
        "contact_prisoners",
        "contact_notifications",
        "contact_notes",
        "contact_intelligence",
        "contact_drafts",
        "contact_cases",
        "contact_bars",
        "contact_bar_items",
        "contact_bar_changes",
        "contact_attempts",
        "contact_alerts",
    ):
        op.drop_table(table)
