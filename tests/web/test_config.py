"""Site settings: every variable parsed by its rule, every mistake named (web/config.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from ldntrial.web.config import read_config

KEY = "k" * 60


def test_defaults_give_a_sqlite_database_with_wal_and_a_stored_secret(tmp_path: Path) -> None:
    config = read_config({"LDNTRIAL_DATA_DIR": str(tmp_path)})
    assert config.database["ENGINE"] == "django.db.backends.sqlite3"
    assert config.database["NAME"] == str(tmp_path / "ldntrial.sqlite3")
    assert "journal_mode=WAL" in config.database["OPTIONS"]["init_command"]
    assert not config.debug and not config.production
    assert len(config.secret_key) >= 50
    assert read_config({"LDNTRIAL_DATA_DIR": str(tmp_path)}).secret_key == config.secret_key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_postgresql_comes_from_database_url(tmp_path: Path) -> None:
    config = read_config(
        {
            "LDNTRIAL_DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/ldntrial",
        }
    )
    database = config.database
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["HOST"], database["PORT"]) == (
        "ldntrial",
        "127.0.0.1",
        5432,
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LDNTRIAL_DEBUG": "ture"}, "LDNTRIAL_DEBUG: 'ture' is not true or false"),
        ({"LDNTRIAL_DEBGU": "1"}, "LDNTRIAL_DEBGU: not a setting ldntrial knows"),
        ({"LDNTRIAL_TRUSTED_PROXIES": "yes"}, "LDNTRIAL_TRUSTED_PROXIES: 'yes' is not a count"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL: must start with postgres://"),
        ({"LDNTRIAL_SECRET_KEY": "short"}, "LDNTRIAL_SECRET_KEY: must be at least 50"),
        (
            {"LDNTRIAL_PRODUCTION": "true", "LDNTRIAL_ALLOWED_HOSTS": "x.org"},
            "LDNTRIAL_SECRET_KEY: required in production",
        ),
        (
            {"LDNTRIAL_PRODUCTION": "true", "LDNTRIAL_SECRET_KEY": KEY},
            "LDNTRIAL_ALLOWED_HOSTS: required in production",
        ),
        (
            {
                "LDNTRIAL_PRODUCTION": "1",
                "LDNTRIAL_DEBUG": "1",
                "LDNTRIAL_SECRET_KEY": KEY,
                "LDNTRIAL_ALLOWED_HOSTS": "x.org",
            },
            "LDNTRIAL_DEBUG: must be false when LDNTRIAL_PRODUCTION is true",
        ),
        ({"LDNTRIAL_ALLOWED_HOSTS": " , "}, "LDNTRIAL_ALLOWED_HOSTS: give at least one host"),
        ({"LDNTRIAL_EXPORT_KEY": "short"}, "LDNTRIAL_EXPORT_KEY: must be at least 32"),
        (
            {
                "LDNTRIAL_PRODUCTION": "true",
                "LDNTRIAL_SECRET_KEY": KEY,
                "LDNTRIAL_ALLOWED_HOSTS": "x.org",
            },
            "LDNTRIAL_EXPORT_KEY: required in production",
        ),
        ({"LDNTRIAL_AUDIT_KEY": "short"}, "LDNTRIAL_AUDIT_KEY: must be at least 32"),
        (
            {
                "LDNTRIAL_PRODUCTION": "true",
                "LDNTRIAL_SECRET_KEY": KEY,
                "LDNTRIAL_EXPORT_KEY": KEY[:40],
                "LDNTRIAL_ALLOWED_HOSTS": "x.org",
            },
            "LDNTRIAL_AUDIT_KEY: required in production",
        ),
        (
            {"LDNTRIAL_REQUIRE_TOTP": "maybe"},
            "LDNTRIAL_REQUIRE_TOTP: 'maybe' is not true or false",
        ),
    ],
)
def test_each_mistake_is_named(environ: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"^{message}"):
        read_config({"LDNTRIAL_DATA_DIR": str(tmp_path), **environ})


def test_production_keeps_no_secret_on_disk(tmp_path: Path) -> None:
    config = read_config(
        {
            "LDNTRIAL_DATA_DIR": str(tmp_path),
            "LDNTRIAL_PRODUCTION": "yes",
            "LDNTRIAL_SECRET_KEY": KEY,
            "LDNTRIAL_EXPORT_KEY": KEY[:40],
            "LDNTRIAL_AUDIT_KEY": KEY[10:50],
            "LDNTRIAL_ALLOWED_HOSTS": "trial.example.org, www.trial.example.org",
        }
    )
    assert config.allowed_hosts == ["trial.example.org", "www.trial.example.org"]
    assert config.secret_key == KEY and config.export_key == KEY[:40]
    assert config.audit_key == KEY[10:50]
    assert not any(
        (tmp_path / name).exists() for name in ("secret_key", "export_key", "audit_key")
    )


def test_the_second_factor_is_required_only_when_asked(tmp_path: Path) -> None:
    base = {"LDNTRIAL_DATA_DIR": str(tmp_path)}
    assert read_config(base).require_totp is False
    assert read_config({**base, "LDNTRIAL_REQUIRE_TOTP": "true"}).require_totp is True


def test_mail_settings_come_from_one_address(tmp_path: Path) -> None:
    config = read_config(
        {
            "LDNTRIAL_DATA_DIR": str(tmp_path),
            "LDNTRIAL_EMAIL_URL": "smtp://trial%40clinic.org:s%3Acret@mail.clinic.org:587",
            "LDNTRIAL_EMAIL_FROM": "ldn-trial@clinic.org",
        }
    )
    assert config.email == {
        "EMAIL_HOST": "mail.clinic.org",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "trial@clinic.org",
        "EMAIL_HOST_PASSWORD": "s:cret",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
    }
    assert config.email_from == "ldn-trial@clinic.org"
    tls = read_config({"LDNTRIAL_DATA_DIR": str(tmp_path), "LDNTRIAL_EMAIL_URL": "smtps://m.org"})
    assert (tls.email["EMAIL_PORT"], tls.email["EMAIL_USE_SSL"]) == (465, True)


def test_postgresql_binds_parameters_on_the_server_and_prepares_repeated_statements(
    tmp_path: Path,
) -> None:
    database = read_config(
        {"LDNTRIAL_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@db:5432/x"}
    ).database
    assert database["OPTIONS"]["server_side_binding"] is True
    assert database["OPTIONS"]["prepare_threshold"] == 5
