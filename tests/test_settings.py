from __future__ import annotations

import base64
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
        secret_key=REAL_SECRET,
        field_encryption_keys=new_encryption_key_entry("k1"),
        public_base_url=HTTPS,
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


REAL_SECRET = "Zq3v9kT1mX8pL2wR6yB4nC7hJ0sD5fGaUeIoPlKjHgFd"
HTTPS = "https://vigil.example.gov.uk"


@pytest.mark.parametrize(
    "weak",
    ["a" * 32, "change-me" * 4, "abcd" * 10, "0123456789" * 4, "passwordpasswordpassword12345678"],
)
def test_production_refuses_low_entropy_or_patterned_secret_keys(weak: str) -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        secret_key=weak,
        field_encryption_keys=new_encryption_key_entry("k1"),
        public_base_url=HTTPS,
    )
    with pytest.raises(InsecureSettingsError, match="VIGIL_SECRET_KEY"):
        settings.check_secrets()


@pytest.mark.parametrize("raw", [bytes(32), b"\xaa" * 32, b"\x01\x02" * 16])
def test_production_refuses_all_zero_or_repeated_byte_encryption_keys(raw: bytes) -> None:
    entry = "k1:" + base64.urlsafe_b64encode(raw).decode()
    settings = Settings(
        environment=Environment.PRODUCTION,
        secret_key=REAL_SECRET,
        field_encryption_keys=entry,
        public_base_url=HTTPS,
    )
    with pytest.raises(InsecureSettingsError, match="entry 'k1'"):
        settings.check_secrets()


def test_production_refuses_an_http_public_url_and_always_sets_secure_cookies() -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        secret_key=REAL_SECRET,
        field_encryption_keys=new_encryption_key_entry("k1"),
        public_base_url="http://vigil.internal",
    )
    with pytest.raises(InsecureSettingsError, match="VIGIL_PUBLIC_BASE_URL"):
        settings.check_secrets()
    assert settings.cookies_secure
    assert Settings(
        environment=Environment.PRODUCTION, public_base_url="http://127.0.0.1:8000"
    ).cookies_secure


def test_production_never_reads_the_demo_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("VIGIL_ENVIRONMENT", "VIGIL_SECRET_KEY", "VIGIL_FIELD_ENCRYPTION_KEYS"):
        monkeypatch.delenv(name, raising=False)
    ensure_demo_secrets()
    monkeypatch.setenv("VIGIL_ENVIRONMENT", "production")
    assert Settings().secret_key == ""
    monkeypatch.setenv("VIGIL_ENVIRONMENT", "demo")
    assert len(Settings().secret_key) > 32


@pytest.mark.parametrize(
    ("issuer", "client_secret", "named"),
    [
        ("http://login.force.example", "a-real-client-secret-0f9e8d", "VIGIL_OIDC_ISSUER"),
        ("https://login.force.example", "change-me", "VIGIL_OIDC_CLIENT_SECRET"),
        ("https://login.force.example", "", "VIGIL_OIDC_CLIENT_SECRET"),
    ],
)
def test_production_refuses_single_sign_on_over_http_or_without_a_client_secret(
    issuer: str, client_secret: str, named: str
) -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        secret_key=REAL_SECRET,
        field_encryption_keys=new_encryption_key_entry("k1"),
        public_base_url=HTTPS,
        oidc_issuer=issuer,
        oidc_client_secret=client_secret,
    )
    with pytest.raises(InsecureSettingsError, match=named):
        settings.check_secrets()
