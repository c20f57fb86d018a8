"""Typed settings, read from ``VIGIL_*`` environment variables or a ``.env`` file."""

from __future__ import annotations

import base64
import os
import secrets
import stat
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "placeholder"})
DEMO_SECRETS_FILE = Path(".vigil-secrets.env")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    DEMO = "demo"
    TEST = "test"
    PRODUCTION = "production"


class InsecureSettingsError(RuntimeError):
    """Raised at start-up when secrets are missing outside demo/development."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VIGIL_", env_file=(".env", str(DEMO_SECRETS_FILE)), extra="ignore"
    )

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

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_relaxed(self) -> bool:
        """Demo, development and tests may run with generated secrets."""
        return self.environment is not Environment.PRODUCTION

    @property
    def cookies_secure(self) -> bool:
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
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
            problems.append("VIGIL_SECRET_KEY is missing, a placeholder or shorter than 32 chars")
        if self.field_encryption_keys.strip().lower() in PLACEHOLDER_SECRETS:
            problems.append("VIGIL_FIELD_ENCRYPTION_KEYS is missing or a placeholder")
        if problems:
            raise InsecureSettingsError(
                "Vigil will not start in production without real secrets: " + "; ".join(problems)
            )
        self.encryption_keys()


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
