"""People tables. Protected persons' details are stored only as field-cipher text."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from vigil.db.metadata import UtcDateTime, metadata

regions = Table(
    "regions",
    metadata,
    Column("code", String(10), primary_key=True),
    Column("name", String(120), nullable=False),
)

force_areas = Table(
    "force_areas",
    metadata,
    Column("code", String(10), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("region_code", String(10), ForeignKey("regions.code"), nullable=False),
)

teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("region_code", String(10), ForeignKey("regions.code"), nullable=False),
    Column("force_area", String(10), ForeignKey("force_areas.code"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

officers = Table(
    "officers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("team_id", Integer, ForeignKey("teams.id"), nullable=False, index=True),
    # The staff login of this officer, if they have one (security's users.id; no cross-part FK).
    Column("user_id", Integer, nullable=True, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

prisons = Table(
    "prisons",
    metadata,
    Column("code", String(10), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("opened_on", Date, nullable=True),
    Column("closed_on", Date, nullable=True),
    Column("address", String(300), nullable=True),
    Column("town", String(120), nullable=True),
    Column("postcode", String(10), nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
)

persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("first_name", String(120), nullable=False),
    Column("last_name", String(120), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("pnc_id", String(20), nullable=True, unique=True),
    Column("prison_number", String(10), nullable=True, unique=True),
    Column("crn", String(10), nullable=True, unique=True),
    Column("aliases", JSON, nullable=False),
    Column("managing_team_id", Integer, ForeignKey("teams.id"), nullable=True, index=True),
    Column("force_area", String(10), ForeignKey("force_areas.code"), nullable=True, index=True),
    Column("risk_level", String(20), nullable=False),
    Column("home_address", Text, nullable=True),
    Column("prison_code", String(10), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

protected_persons = Table(
    "protected_persons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "person_id",
        Integer,
        ForeignKey("persons.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("relationship", String(30), nullable=False),
    # Field-cipher text ("enc1:<key id>:..."); the plaintext never reaches the database.
    Column("full_name_enc", Text, nullable=False),
    Column("address_enc", Text, nullable=True),
    Column("phone_enc", Text, nullable=True),
    Column("email_enc", Text, nullable=True),
    # Keyed hash of the E.164 number, so a number can be matched without decrypting every row.
    Column("phone_index", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_protected_persons_phone_index", "phone_index"),
)


# Where each force area lies (vigil.people.force_boundaries), for checking police users' crimes.
force_area_boundaries = Table(
    "force_area_boundaries",
    metadata,
    Column("force_area", String(10), ForeignKey("force_areas.code"), primary_key=True),
    Column("geojson", Text, nullable=False),  # the feature's geometry, WGS84 lon/lat
    Column("source", String(200), nullable=False),
    Column("loaded_at", UtcDateTime(timezone=True), nullable=False),
)
