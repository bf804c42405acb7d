"""The site's configuration, read strictly from ``LDNTRIAL_*`` variables and ``DATABASE_URL``.

Every variable is parsed by a rule; a value that breaks it stops the site at
start-up with a message naming the variable and the rule, instead of running
with a guess (``LDNTRIAL_DEBUG=ture`` must not mean "off" silently).
Unknown ``LDNTRIAL_*`` variables are refused too: a typo in a security
setting should fail loudly.

- ``LDNTRIAL_DATA_DIR`` (default ``./data``): a folder, created if missing;
  it holds the SQLite database and the generated secret key.
- ``LDNTRIAL_DEBUG`` (default false): true/false, 1/0 or yes/no.
- ``LDNTRIAL_PRODUCTION`` (default false): refuses DEBUG, needs SECRET_KEY
  and ALLOWED_HOSTS, and turns on HTTPS-only cookies and HSTS.
- ``LDNTRIAL_SECRET_KEY``: at least 50 characters; outside production a
  random one is generated into the data folder.
- ``LDNTRIAL_EXPORT_KEY``: at least 32 characters, the secret behind the
  pseudonyms and date offsets of de-identified exports (standards.md PRV-12;
  ``ldntrial export`` reads the same variable); outside production a random
  one is generated into the data folder. Changing it changes every pseudonym.
- ``LDNTRIAL_AUDIT_KEY``: at least 32 characters, the secret that seals the
  audit trail (each entry's hash is an HMAC under it, so nobody with the
  database alone can rewrite history and recompute the chain); outside
  production a random one is generated into the data folder. Keep it apart
  from the database and its backups; without it the trail cannot be checked.
- ``LDNTRIAL_ALLOWED_HOSTS`` (default ``127.0.0.1,localhost``): host names,
  comma-separated.
- ``LDNTRIAL_REQUIRE_TOTP`` (default false): every staff user must set up
  an authenticator app (TOTP) before reaching any page.
- ``LDNTRIAL_TRUSTED_PROXIES`` (default 0): how many reverse proxies of your
  own stand in front of the site (1 for the README's nginx). The client's
  address, on which sign-in and link-code limits count, is then the one the
  outermost of them saw; with 0, ``X-Forwarded-For`` is ignored (anyone can
  write it).
- ``LDNTRIAL_SITE_URL`` (default ``http://127.0.0.1:8000``): the site's address
  as participants reach it, for the links in reminders.
- ``LDNTRIAL_EMAIL_URL`` (production; default the machine's own mail server,
  ``smtp://localhost:25``): ``smtp://user:password@host:587`` (STARTTLS) or
  ``smtps://user:password@host:465`` (TLS).
- ``LDNTRIAL_EMAIL_FROM`` (default ``ldntrial@localhost``): the sender address.
- ``DATABASE_URL`` (default SQLite in the data folder): ``postgres://``,
  ``postgresql://`` or ``sqlite:///``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

__all__ = ["SiteConfig", "read_config"]

KNOWN = {
    "LDNTRIAL_DATA_DIR",
    "LDNTRIAL_DEBUG",
    "LDNTRIAL_PRODUCTION",
    "LDNTRIAL_SECRET_KEY",
    "LDNTRIAL_EXPORT_KEY",
    "LDNTRIAL_AUDIT_KEY",
    "LDNTRIAL_ALLOWED_HOSTS",
    "LDNTRIAL_REQUIRE_TOTP",
    "LDNTRIAL_TRUSTED_PROXIES",
    "LDNTRIAL_EMAIL_URL",
    "LDNTRIAL_SITE_URL",
    "LDNTRIAL_EMAIL_FROM",
    "LDNTRIAL_CHROMIUM",  # read by ldntrial.report.chromium
}
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
MIN_SECRET_LENGTH = 50
MIN_EXPORT_KEY_LENGTH = 32
MIN_AUDIT_KEY_LENGTH = 32
DATABASE_SCHEMES = ("postgres", "postgresql", "sqlite")


@dataclass(frozen=True)
class SiteConfig:
    """What the Django settings need, already checked."""

    data_dir: Path
    debug: bool
    production: bool
    secret_key: str
    allowed_hosts: list[str]
    database: dict[str, Any]
    require_totp: bool = False
    trusted_proxies: int = 0  # reverse proxies in front of the site
    email: dict[str, Any] = field(default_factory=dict)  # Django EMAIL_* settings
    email_from: str = "ldntrial@localhost"
    site_url: str = "http://127.0.0.1:8000"
    export_key: str = ""  # pseudonyms and date offsets of de-identified exports
    audit_key: str = ""  # seals the audit trail's hash chain


def read_config(environ: Mapping[str, str] | None = None) -> SiteConfig:
    """The configuration from ``environ`` (default ``os.environ``), or ImproperlyConfigured."""
    environ = os.environ if environ is None else environ
    unknown = sorted(k for k in environ if k.startswith("LDNTRIAL_") and k not in KNOWN)
    if unknown:
        raise ImproperlyConfigured(
            f"{unknown[0]}: not a setting ldntrial knows; settings are {', '.join(sorted(KNOWN))}"
        )
    data_dir = Path(environ.get("LDNTRIAL_DATA_DIR", "data")).resolve()
    production = _boolean(environ, "LDNTRIAL_PRODUCTION", False)
    debug = _boolean(environ, "LDNTRIAL_DEBUG", False)
    if production and debug:
        raise ImproperlyConfigured(
            "LDNTRIAL_DEBUG: must be false when LDNTRIAL_PRODUCTION is true"
        )
    hosts_text = environ.get("LDNTRIAL_ALLOWED_HOSTS")
    if production and not hosts_text:
        raise ImproperlyConfigured(
            "LDNTRIAL_ALLOWED_HOSTS: required in production (the site's host names, "
            "comma-separated)"
        )
    hosts = [h.strip() for h in (hosts_text or "127.0.0.1,localhost").split(",") if h.strip()]
    if not hosts:
        raise ImproperlyConfigured("LDNTRIAL_ALLOWED_HOSTS: give at least one host name")
    return SiteConfig(
        data_dir=data_dir,
        debug=debug,
        production=production,
        secret_key=_secret_key(environ, data_dir, production),
        allowed_hosts=hosts,
        database=_database(environ, data_dir),
        require_totp=_boolean(environ, "LDNTRIAL_REQUIRE_TOTP", False),
        trusted_proxies=_proxies(environ.get("LDNTRIAL_TRUSTED_PROXIES", "0")),
        email=_email(environ.get("LDNTRIAL_EMAIL_URL")),
        email_from=_email_from(environ.get("LDNTRIAL_EMAIL_FROM")),
        site_url=_site_url(environ.get("LDNTRIAL_SITE_URL")),
        export_key=_export_key(environ, data_dir, production),
        audit_key=_secret(
            environ, "LDNTRIAL_AUDIT_KEY", MIN_AUDIT_KEY_LENGTH, data_dir / "audit_key", production
        ),
    )


def _proxies(raw: str) -> int:
    if not raw.strip().isdigit() or int(raw) > 5:
        raise ImproperlyConfigured(
            f"LDNTRIAL_TRUSTED_PROXIES: {raw!r} is not a count of proxies from 0 to 5"
        )
    return int(raw)


def _boolean(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: {raw!r} is not true or false (use true/false, 1/0)")


def _secret_key(environ: Mapping[str, str], data_dir: Path, production: bool) -> str:
    return _secret(
        environ, "LDNTRIAL_SECRET_KEY", MIN_SECRET_LENGTH, data_dir / "secret_key", production
    )


def _export_key(environ: Mapping[str, str], data_dir: Path, production: bool) -> str:
    return _secret(
        environ, "LDNTRIAL_EXPORT_KEY", MIN_EXPORT_KEY_LENGTH, data_dir / "export_key", production
    )


def _secret(
    environ: Mapping[str, str], name: str, length: int, stored: Path, production: bool
) -> str:
    """The secret ``name`` from the environment; outside production one random secret per
    data folder, kept beside the database (never in it)."""
    key = environ.get(name)
    if key is not None:
        if len(key) < length:
            raise ImproperlyConfigured(f"{name}: must be at least {length} characters")
        return key
    if production:
        raise ImproperlyConfigured(
            f"{name}: required in production (at least {length} random characters, kept out "
            "of the code and the database)"
        )
    if not stored.exists():
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(secrets.token_urlsafe(64))
        stored.chmod(0o600)
    return stored.read_text().strip()


def _email(url: str | None) -> dict[str, Any]:
    """Django's EMAIL_* settings from ``smtp://`` or ``smtps://user:password@host:port``."""
    if url is None:
        return {}
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ImproperlyConfigured(
            "LDNTRIAL_EMAIL_URL: must be smtp://user:password@host:587 (STARTTLS) or "
            "smtps://user:password@host:465 (TLS)"
        )
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise ImproperlyConfigured("LDNTRIAL_EMAIL_URL: the port is not a number") from None
    return {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": parts.scheme == "smtp" and port != 25,
    }


def _site_url(url: str | None) -> str:
    if url is None:
        return "http://127.0.0.1:8000"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ImproperlyConfigured(
            f"LDNTRIAL_SITE_URL: {url!r} is not a site address such as https://ldn.example.org"
        )
    return url.rstrip("/")


def _email_from(address: str | None) -> str:
    if address is None:
        return "ldntrial@localhost"
    if "@" not in address or address.strip() != address or " " in address:
        raise ImproperlyConfigured(f"LDNTRIAL_EMAIL_FROM: {address!r} is not an email address")
    return address


def _database(environ: Mapping[str, str], data_dir: Path) -> dict[str, Any]:
    url = environ.get("DATABASE_URL")
    if url is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{data_dir / 'ldntrial.sqlite3'}"
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            "DATABASE_URL: must start with postgres://, postgresql:// or sqlite:/// "
            f"(got {scheme + '://' if scheme else 'no scheme'})"
        )
    try:
        database = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL: cannot be read ({error})") from None
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the diary's readers and writer work at the same time; the busy
        # timeout makes a second writer wait instead of failing at once.
        database["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        database["CONN_MAX_AGE"] = 0
        # Tests use a file too, so that they meet WAL and the busy timeout as the site does.
        database["TEST"] = {"NAME": str(data_dir / "test.sqlite3")}
    else:
        # Parameters sent apart from the SQL, and a statement run five times on a
        # connection prepared: PostgreSQL parses and plans it once instead of on every
        # request, which halves its CPU per diary entry (issue 17's evening rush).
        database.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    return dict(database)
