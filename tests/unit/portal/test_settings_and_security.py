"""Settings, password policy, TOTP and sealed secrets — no database."""

from __future__ import annotations

import logging

import pyotp
import pytest
from cryptography.exceptions import InvalidTag

from portal.security import totp
from portal.security.passwords import PasswordHashing, PasswordPolicyError, check_policy, common_passwords
from portal.security.sealed import SealedBox
from portal.settings import SettingsError, load_settings


def test_production_refuses_to_start_without_a_secret_key(tmp_path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SECRET_KEY is required in production"):
        load_settings(
            {
                "PORTAL_ENV": "production",
                "PORTAL_DATA_DIR": str(tmp_path),
                "PORTAL_ISSUER": "https://portal.example",
            }
        )
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_plain_http_issuer_and_short_keys(tmp_path) -> None:
    with pytest.raises(SettingsError, match="https://"):
        load_settings({"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "k" * 40, "PORTAL_DATA_DIR": str(tmp_path)})
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings({"PORTAL_SECRET_KEY": "short", "PORTAL_DATA_DIR": str(tmp_path)})


@pytest.mark.parametrize("variable", ["PORTAL_CORS_ORIGINS", "PORTAL_ALLOWED_HOSTS"])
def test_wildcards_are_refused_for_origins_and_hosts(tmp_path, variable) -> None:
    with pytest.raises(SettingsError, match="'\\*' is refused"):
        load_settings(
            {variable: "https://a.example,*", "PORTAL_SECRET_KEY": "s" * 32, "PORTAL_DATA_DIR": str(tmp_path)}
        )


def test_development_creates_a_private_key_file_once_and_warns(tmp_path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="portal.settings"):
        first = load_settings({"PORTAL_DATA_DIR": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.secret_key == key_file.read_text().strip() and len(first.secret_key) >= 48
    assert "PORTAL_SECRET_KEY is not set" in caplog.text
    assert first.secret_key not in caplog.text
    assert load_settings({"PORTAL_DATA_DIR": str(tmp_path)}).secret_key == first.secret_key
    assert first.database_url == f"sqlite:///{tmp_path / 'portal.sqlite3'}"


def test_settings_read_every_documented_variable(tmp_path) -> None:
    settings = load_settings(
        {
            "PORTAL_DATABASE_URL": "postgresql://u@h/db",
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_ISSUER": "https://x.example",
            "PORTAL_SECRET_KEY": "s" * 32,
            "PORTAL_ENV": "production",
            "PORTAL_REDIS_URL": "redis://127.0.0.1:6379/0",
            "PORTAL_ALLOWED_HOSTS": "x.example, www.x.example",
            "PORTAL_SESSION_MINUTES": "20",
        }
    )
    assert (settings.database_url, settings.issuer, settings.redis_url) == (
        "postgresql://u@h/db",
        "https://x.example",
        "redis://127.0.0.1:6379/0",
    )
    assert settings.allowed_hosts == ["www.x.example", "x.example"] and settings.session_minutes == 20
    with pytest.raises(SettingsError, match="session_minutes"):
        load_settings(
            {
                "PORTAL_SESSION_MINUTES": "soon",
                "PORTAL_SECRET_KEY": "s" * 32,
                "PORTAL_DATA_DIR": str(tmp_path),
            }
        )


def test_allowed_hosts_follow_the_issuer_and_development_loopback(tmp_path) -> None:
    dev = load_settings(
        {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_SECRET_KEY": "s" * 32, "PORTAL_ISSUER": "http://127.0.0.1:8765"}
    )
    assert {"127.0.0.1:8765", "127.0.0.1:8000", "localhost:8000", "127.0.0.1"} <= set(dev.allowed_hosts)
    prod = load_settings(
        {
            "PORTAL_ENV": "production",
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_SECRET_KEY": "s" * 32,
            "PORTAL_ISSUER": "https://portal.example:8443",
        }
    )
    assert prod.allowed_hosts == ["portal.example", "portal.example:8443"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 12"),
        ("x" * 257, "at most 256"),
        ("password1234", "most common"),
        ("1qaz2wsx3edc", "most common"),
        ("someone@example.org", "email"),
        (" " * 12, "blank"),
        ("\u200b" * 12, "blank"),
        ("\t \u3000\u00a0\u2060\ufeff" * 2, "blank"),
        ("aaaaaaaaaaaa", "one character repeated"),
        ("ZZZZ\u200bZZZZZZZZ", "one character repeated"),
        ("123456789012", "run of consecutive"),
        ("qwertyuiopas", "run of consecutive"),
        ("abcdefghijkl", "run of consecutive"),
        ("LKJIHGFEDCBA", "run of consecutive"),
        ("9876543210987", "run of consecutive"),
        ("mnbvcxzlkjhg", "run of consecutive"),
        ("abc def ghi jkl", "run of consecutive"),
    ],
)
def test_password_policy(password, message) -> None:
    with pytest.raises(PasswordPolicyError, match=message):
        check_policy(password, email="someone@example.org")


@pytest.mark.parametrize("password", ["correct horse battery staple", "abcdefghijkm", "1234567890123x", "zaq12wsxcde3"])
def test_password_policy_accepts_what_is_not_a_run(password) -> None:
    check_policy(password, email="someone@example.org")


def test_common_password_list_has_ten_thousand_entries() -> None:
    assert len(common_passwords()) == 10_000 and "123456" in common_passwords()
    check_policy("a long and unusual passphrase")


def test_argon2id_hashes_and_verifies() -> None:
    hashing = PasswordHashing(time_cost=1, memory_kib=1024)
    stored = hashing.hash("a long and unusual passphrase")
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert hashing.verify(stored, "a long and unusual passphrase") is True
    assert hashing.verify(stored, "a long and unusual passphrasE") is False
    assert hashing.verify(None, "anything at all here") is False


def test_totp_codes_are_single_use_and_tolerate_one_step_of_drift() -> None:
    secret = pyotp.random_base32()
    now = 1_800_000_000.0
    step = int(now // 30)
    code = pyotp.TOTP(secret).at(now)
    assert totp.accepted_step(secret, code, last_step=0, now=now) == step
    assert totp.accepted_step(secret, code, last_step=step, now=now) is None  # already used
    earlier = pyotp.TOTP(secret).at(now - 30)
    assert totp.accepted_step(secret, earlier, last_step=0, now=now) == step - 1
    assert totp.accepted_step(secret, pyotp.TOTP(secret).at(now - 90), last_step=0, now=now) is None
    assert totp.accepted_step(secret, "12345", last_step=0, now=now) is None


def test_sealed_box_round_trips_and_binds_the_purpose() -> None:
    box = SealedBox("k" * 40, "totp")
    sealed = box.seal("JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in sealed and box.open(sealed) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(InvalidTag):
        SealedBox("k" * 40, "other").open(sealed)
