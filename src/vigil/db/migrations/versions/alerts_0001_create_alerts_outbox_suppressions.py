"""create alerts, history, outbox, delivery attempts, suppressions and approach warnings

Revision ID: alerts_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "alerts_0001"
down_revision = "0001"
branch_labels = ("alerts",)
depends_on = None

UTC_DT = vigil.db.metadata.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("next_escalation_at", UTC_DT, nullable=True),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("condition_id", sa.String(length=64), nullable=True),
        sa.Column("managing_team_id", sa.Integer(), nullable=True),
        sa.Column("force_area", sa.String(length=20), nullable=True),
        sa.Column("risk_level", sa.String(length=20), nullable=True),
        sa.Column("started_at", UTC_DT, nullable=False),
        sa.Column("ended_at", UTC_DT, nullable=True),
        sa.Column("raised_at", UTC_DT, nullable=False),
        sa.Column("retrospective", sa.Boolean(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("updated_at", UTC_DT, nullable=False),
        sa.Column("acknowledged_at", UTC_DT, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", UTC_DT, nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("episode_id", name=op.f("uq_alerts_episode_id")),
    )
    op.create_index("ix_alerts_next_escalation_at", "alerts", ["next_escalation_at"])
    op.create_index("ix_alerts_person_id", "alerts", ["person_id"])
    op.create_index("ix_alerts_status_severity", "alerts", ["status", "severity"])

    op.create_table(
        "alert_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DT, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_history_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_history")),
    )
    op.create_index("ix_alert_history_alert_id", "alert_history", ["alert_id"])

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=400), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DT, nullable=False),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("claimed_until", UTC_DT, nullable=True),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("delivered_at", UTC_DT, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_alert_deliveries_idempotency_key")),
    )
    op.create_index("ix_alert_deliveries_alert_id", "alert_deliveries", ["alert_id"])
    op.create_index(
        "ix_alert_deliveries_due", "alert_deliveries", ["channel", "status", "next_attempt_at"]
    )
    op.create_index(
        "ix_alert_deliveries_recipient", "alert_deliveries", ["channel", "recipient", "created_at"]
    )

    op.create_table(
        "alert_delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=80), nullable=False),
        sa.Column("started_at", UTC_DT, nullable=False),
        sa.Column("finished_at", UTC_DT, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["alert_deliveries.id"],
            name=op.f("fk_alert_delivery_attempts_delivery_id_alert_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_delivery_attempts")),
    )
    op.create_index(
        "ix_alert_delivery_attempts_delivery_id", "alert_delivery_attempts", ["delivery_id"]
    )

    op.create_table(
        "alert_suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("condition_id", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_at", UTC_DT, nullable=False),
        sa.Column("ends_at", UTC_DT, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("cancelled_at", UTC_DT, nullable=True),
        sa.Column("cancelled_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_suppressions")),
    )
    op.create_index(
        "ix_alert_suppressions_person", "alert_suppressions", ["person_id", "starts_at"]
    )

    op.create_table(
        "alert_approach_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.String(length=120), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("condition_id", sa.String(length=64), nullable=True),
        sa.Column("at", UTC_DT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_approach_warnings")),
        sa.UniqueConstraint("episode_id", name=op.f("uq_alert_approach_warnings_episode_id")),
    )
    op.create_index(
        "ix_alert_approach_warnings_person",
        "alert_approach_warnings",
        ["person_id", "condition_id", "at"],
    )

    op.create_table(
        "alert_protected_optins",
        sa.Column("protected_person_id", sa.String(length=64), nullable=False),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC_DT, nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("protected_person_id", name=op.f("pk_alert_protected_optins")),
    )


def downgrade() -> None:
    op.drop_table("alert_protected_optins")
    op.drop_table("alert_approach_warnings")
    op.drop_table("alert_suppressions")
    op.drop_table("alert_delivery_attempts")
    op.drop_table("alert_deliveries")
    op.drop_table("alert_history")
    op.drop_table("alerts")
