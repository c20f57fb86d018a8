"""create regions, force areas, teams, officers, prisons, persons and protected persons

Revision ID: people_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "people_0001"
down_revision = "0001"
branch_labels = ("people",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    op.create_table(
        "force_areas",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_force_areas_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_force_areas")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.Column("force_area", sa.String(length=10), nullable=False),
        sa.Column("created_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_teams_region_code_regions")
        ),
        sa.ForeignKeyConstraint(
            ["force_area"], ["force_areas.code"], name=op.f("fk_teams_force_area_force_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "officers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_officers_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_officers_user_id")),
    )
    op.create_index(op.f("ix_officers_team_id"), "officers", ["team_id"])
    op.create_table(
        "prisons",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("town", sa.String(length=120), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_prisons")),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=120), nullable=False),
        sa.Column("last_name", sa.String(length=120), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("pnc_id", sa.String(length=20), nullable=True),
        sa.Column("prison_number", sa.String(length=10), nullable=True),
        sa.Column("crn", sa.String(length=10), nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("managing_team_id", sa.Integer(), nullable=True),
        sa.Column("force_area", sa.String(length=10), nullable=True),
        sa.Column("risk_level", sa.String(length=20), nullable=False),
        sa.Column("home_address", sa.Text(), nullable=True),
        sa.Column("prison_code", sa.String(length=10), nullable=True),
        sa.Column("created_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["managing_team_id"], ["teams.id"], name=op.f("fk_persons_managing_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["force_area"], ["force_areas.code"], name=op.f("fk_persons_force_area_force_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("pnc_id", name=op.f("uq_persons_pnc_id")),
        sa.UniqueConstraint("prison_number", name=op.f("uq_persons_prison_number")),
        sa.UniqueConstraint("crn", name=op.f("uq_persons_crn")),
    )
    op.create_index(op.f("ix_persons_managing_team_id"), "persons", ["managing_team_id"])
    op.create_index(op.f("ix_persons_force_area"), "persons", ["force_area"])
    op.create_table(
        "protected_persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("relationship", sa.String(length=30), nullable=False),
        sa.Column("full_name_enc", sa.Text(), nullable=False),
        sa.Column("address_enc", sa.Text(), nullable=True),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("email_enc", sa.Text(), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("created_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_protected_persons_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protected_persons")),
    )
    op.create_index(op.f("ix_protected_persons_person_id"), "protected_persons", ["person_id"])
    op.create_index("ix_protected_persons_phone_index", "protected_persons", ["phone_index"])


def downgrade() -> None:
    op.drop_table("protected_persons")
    op.drop_table("persons")
    op.drop_table("prisons")
    op.drop_table("officers")
    op.drop_table("teams")
    op.drop_table("force_areas")
    op.drop_table("regions")
