from __future__ import annotations

import stat
from pathlib import Path

import pytest

from vigil.settings import (
    Environment,
    InsecureSettingsError,
    Settings,
    ensure_demo_secrets,
    new_encryption_key_entry,
)


def test_production_refuses_to_start_without_secrets() -> None:
    settings = Settings(environment=Environment.PRODUCTION, secret_key="", field_encryption_keys="")
    with pytest.raises(InsecureSettingsError, match="VIGIL_SECRET_KEY"):
        settings.check_secrets()


def test_production_refuses_placeholder_secrets() -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        secret_key="change-me",
        field_encryption_keys="change-me",
    )
    with pytest.raises(InsecureSettingsError, match="VIGIL_FIELD_ENCRYPTION_KEYS"):
        settings.check_secrets()


def test_production_starts_with_real_secrets() -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        secret_key="x" * 40,
        field_encryption_keys=new_encryption_key_entry("k1"),
    )
    settings.check_secrets()
    assert list(settings.encryption_keys()) == ["k1"]


def test_a_malformed_encryption_key_names_the_setting() -> None:
    settings = Settings(
        environment=Environment.PRODUCTION, secret_key="x" * 40, field_encryption_keys="k1:c2hvcnQ="
    )
    with pytest.raises(InsecureSettingsError, match="VIGIL_FIELD_ENCRYPTION_KEYS"):
        settings.check_secrets()


def test_demo_and_development_start_without_configured_secrets() -> None:
    Settings(environment=Environment.DEMO, secret_key="").check_secrets()
    Settings(environment=Environment.DEVELOPMENT, secret_key="").check_secrets()


def test_demo_secrets_file_is_readable_only_by_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    ensure_demo_secrets(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600
    content = path.read_text()
    assert "VIGIL_SECRET_KEY=" in content
    assert "VIGIL_FIELD_ENCRYPTION_KEYS=k1:" in content
    ensure_demo_secrets(path)
    assert path.read_text() == content, "a second run keeps the same secrets"


def test_an_unknown_timezone_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        Settings(timezone="Europe/Atlantis")


def test_the_default_database_is_a_local_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIGIL_DATABASE_URL", raising=False)
    assert Settings(_env_file=None).database_url == "sqlite:///./vigil.db"  # type: ignore[call-arg]
