"""Typed settings, read from ``VIGIL_*`` environment variables or a ``.env`` file."""

from __future__ import annotations

import base64
import math
import os
import secrets
import stat
from collections import Counter
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from vigil.geo.tiles import TileSource, tile_source

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "placeholder"})
DEMO_SECRETS_FILE = Path(".vigil-secrets.env")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    DEMO = "demo"
    TEST = "test"
    PRODUCTION = "production"


class InsecureSettingsError(RuntimeError):
    """Raised at start-up when secrets are missing outside demo/development."""


# A secret key must carry at least this much estimated entropy (bits): 32 random URL-safe
# characters carry about 190; "change-me" four times about 105; 32 × "a" none.
MIN_SECRET_BITS = 128


def secret_key_problem(value: str) -> str | None:
    """Why ``value`` is not fit to be a production secret key, or None when it is."""
    text = value.strip()
    if text.lower() in PLACEHOLDER_SECRETS or len(text) < 32:
        return "is missing, a placeholder or shorter than 32 characters"
    # A repeated unit ("abcabcabc...", "change-mechange-me...") is a pattern, not a secret.
    if text in (text + text)[1:-1]:
        return "is a repeated pattern"
    counts = Counter(text)
    per_char = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    if per_char * len(text) < MIN_SECRET_BITS or len(counts) < 12:
        return "has too little randomness (generate one: secrets.token_urlsafe(48))"
    return None


def encryption_key_problem(raw: bytes) -> str | None:
    """All-zero, one repeated byte or a short repeated pattern is not a key."""
    if len(set(raw)) < 16:
        return "is all zeros, a repeated byte or a pattern (generate one: secrets.token_bytes(32))"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIL_", env_file=".env", extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The demo's generated secrets file is read only outside production: a production
        server started in a folder where someone once ran the demo must not pick up its keys."""
        found = {**dotenv_settings(), **env_settings(), **init_settings()}
        environment = str(found.get("environment", Environment.PRODUCTION)).lower()
        sources = [init_settings, env_settings, dotenv_settings]
        if environment != Environment.PRODUCTION:
            sources.append(DotEnvSettingsSource(settings_cls, env_file=DEMO_SECRETS_FILE))
        return (*sources, file_secret_settings)

    environment: Environment = Environment.PRODUCTION
    database_url: str = "sqlite:///./vigil.db"
    secret_key: str = ""
    # "<key id>:<base64 32-byte key>" entries, comma separated; the first one encrypts new values,
    # all of them decrypt, so a key can be rotated without re-encrypting at once.
    field_encryption_keys: str = ""
    timezone: str = "Europe/London"
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    # Empty: the in-process bus. "nats://host:4222": NATS JetStream, for scale-out.
    bus_url: str = ""
    bus_partitions: int = Field(default=16, ge=1)
    # Comma-separated partitions this process consumes (empty = all), e.g. "0-7" on one worker.
    bus_owned_partitions: str = ""
    pilot_region_capacity: int = Field(default=500, ge=1)
    evidence_signing_key: str = ""  # "<signer>:<base64 32-byte Ed25519 seed>" for evidence packs
    gateway_host: str = "127.0.0.1"  # devices on a network need 0.0.0.0 or the LAN address
    # A door of its own on another interface: "osmand=10.20.0.5,teltonika=10.30.0.5".
    gateway_hosts: str = ""
    gateway_tcp_ports: str = "teltonika:5027,gt06:5023,watch:5093"
    # Networks the TCP tags may connect from (e.g. the mobile operator's APN), comma-separated
    # CIDRs; empty lets any address connect.
    gateway_tcp_allowed_networks: str = ""
    gateway_osmand_port: int = Field(default=5055, ge=-1, le=65535)  # -1 disables
    gateway_owntracks_port: int = Field(default=5056, ge=-1, le=65535)  # OwnTracks HTTP mode
    gateway_idle_timeout_s: float = Field(default=600.0, gt=0)
    # How soon a newly registered or fitted tag is let in by the device doors.
    gateway_directory_refresh_s: float = Field(default=10.0, gt=0, le=3600)
    mqtt_url: str = "mqtt://127.0.0.1:1883"  # empty disables the OwnTracks subscriber
    # Retention: how long each kind of record is kept (days), enforced daily by vigil.retention.
    # Fixes cited by an evidence pack are kept whatever their age (legal hold).
    retention_trail_days: int = Field(default=6 * 365, ge=30)
    retention_quarantine_days: int = Field(default=90, ge=1)
    retention_dead_letter_days: int = Field(default=90, ge=1)
    # Resolved alerts (not those an evidence pack cites), finished contact cases with no bar in
    # force, and matrix runs (never the newest, nor one an open tasking review was decided on).
    retention_alert_days: int = Field(default=6 * 365, ge=30)
    retention_contact_case_days: int = Field(default=6 * 365, ge=30)
    retention_harm_run_days: int = Field(default=2 * 365, ge=30)
    # Comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto are believed;
    # empty: none, the client is the connection's own address (rate limits, sign-in throttling).
    trusted_proxies: str = ""
    # A session unused this long ends (0: only the 12-hour limit applies).
    session_idle_minutes: int = Field(default=30, ge=0, le=720)
    # Where signed checkpoints of the audit chain are appended (storage the database cannot
    # reach); empty disables them. See vigil.security.checkpoints.
    audit_checkpoint_path: str = ""
    audit_checkpoint_interval_s: float = Field(default=300.0, gt=0)
    # The last audit entry written before the chain was keyed (a log from an older Vigil): set
    # once when upgrading, as `vigil security audit verify` advises; 0 when the log began keyed.
    audit_unkeyed_until: int = Field(default=0, ge=0)
    # Single sign-on by OpenID Connect (vigil.security.single_sign_on); an empty issuer turns it
    # off. Groups map to roles as "group=role[:scope]" entries separated by commas, the scope
    # being a police user's force area code or a probation officer's team id.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_provider_name: str = "your organisation's account"
    oidc_groups_claim: str = "groups"
    oidc_group_roles: str = ""
    # Street maps under every map (pages and PDFs): an XYZ template with {z}/{x}/{y} or a WMTS
    # template with {TileMatrix}/{TileCol}/{TileRow} (Web Mercator), and the provider's copyright
    # notice; empty: the maps show a distance grid instead. Checked at start-up (vigil.geo.tiles).
    map_tiles_url: str = ""
    map_tiles_attribution: str = Field(default="", validate_default=True)
    map_tiles_max_zoom: int = Field(default=19, ge=0, le=22)
    # How many days the organisation aims to decide a contact request in: the public form's
    # confirmation promises it and the case queue marks open cases past it as overdue. Unset: no
    # time is promised (the confirmation says so), as none is agreed.
    contact_decision_days: int | None = Field(default=None, ge=1, le=365)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("map_tiles_attribution")
    @classmethod
    def _usable_map_tiles(cls, value: str, info: ValidationInfo) -> str:
        """The tile settings checked together, on the last of them to be read: a field's error
        shows only that field's value (a check of the whole model would print every setting,
        secrets included, into the start-up error)."""
        environment = info.data.get("environment", Environment.PRODUCTION)
        url = info.data.get("map_tiles_url", "")
        tile_source(url, value, 0, production=environment is Environment.PRODUCTION)
        return value

    @property
    def map_tiles(self) -> TileSource | None:
        """The street tile source, or None when the maps draw a grid instead."""
        return tile_source(
            self.map_tiles_url,
            self.map_tiles_attribution,
            self.map_tiles_max_zoom,
            production=self.environment is Environment.PRODUCTION,
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_relaxed(self) -> bool:
        """Demo, development and tests may run with generated secrets."""
        return self.environment is not Environment.PRODUCTION

    @property
    def second_factor_required(self) -> bool:
        """Staff who see victims' details or trails must use two-step sign-in in production."""
        return self.environment is Environment.PRODUCTION

    @property
    def cookies_secure(self) -> bool:
        # Production always (check_secrets refuses an http public URL there); elsewhere whenever
        # the public URL is not a plain-http loopback address.
        if self.environment is Environment.PRODUCTION:
            return True
        return not self.public_base_url.startswith(("http://127.0.0.1", "http://localhost"))

    def encryption_keys(self) -> dict[str, bytes]:
        keys: dict[str, bytes] = {}
        for entry in filter(None, (part.strip() for part in self.field_encryption_keys.split(","))):
            key_id, _, encoded = entry.partition(":")
            raw = base64.urlsafe_b64decode(encoded.encode())
            if len(raw) != 32 or not key_id:
                raise InsecureSettingsError(
                    "VIGIL_FIELD_ENCRYPTION_KEYS: each entry must be '<id>:<base64 of 32 bytes>'"
                )
            keys[key_id] = raw
        return keys

    def check_secrets(self) -> None:
        """Refuse to start with missing or placeholder secrets outside demo/development."""
        if self.is_relaxed:
            return
        problems = []
        if found := secret_key_problem(self.secret_key):
            problems.append(f"VIGIL_SECRET_KEY {found}")
        if self.field_encryption_keys.strip().lower() in PLACEHOLDER_SECRETS:
            problems.append("VIGIL_FIELD_ENCRYPTION_KEYS is missing or a placeholder")
        else:
            for key_id, raw in self.encryption_keys().items():
                if found := encryption_key_problem(raw):
                    problems.append(f"VIGIL_FIELD_ENCRYPTION_KEYS entry {key_id!r} {found}")
        if not self.public_base_url.startswith("https://"):
            problems.append(
                "VIGIL_PUBLIC_BASE_URL must be https:// (session cookies are sent only over TLS)"
            )
        if self.oidc_issuer and not self.oidc_issuer.startswith("https://"):
            problems.append("VIGIL_OIDC_ISSUER must be https:// (tokens travel over it)")
        if self.oidc_issuer and self.oidc_client_secret.strip().lower() in PLACEHOLDER_SECRETS:
            problems.append("VIGIL_OIDC_CLIENT_SECRET is missing or a placeholder")
        if problems:
            raise InsecureSettingsError(
                "Vigil will not start in production without real secrets: " + "; ".join(problems)
            )


def new_encryption_key_entry(key_id: str = "k1") -> str:
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}"


def ensure_demo_secrets(path: Path = DEMO_SECRETS_FILE) -> None:
    """Generate demo secrets once into a file only its owner can read."""
    if not path.exists():
        content = (
            f"VIGIL_SECRET_KEY={secrets.token_urlsafe(48)}\n"
            f"VIGIL_FIELD_ENCRYPTION_KEYS={new_encryption_key_entry()}\n"
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
