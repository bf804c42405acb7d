"""Accounts: Argon2id hashing and sessions that end (standards.md §3.1, §3.2)."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher

from ldntrial.web import settings as site_settings


def test_passwords_are_hashed_with_argon2id() -> None:
    assert site_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    hasher = Argon2PasswordHasher()
    hashed = hasher.encode("correct horse battery staple", hasher.salt())
    assert hashed.startswith("argon2$argon2id$")
    assert hasher.verify("correct horse battery staple", hashed)
    assert not hasher.verify("correct horse battery stapler", hashed)


def test_sessions_end_when_idle_or_when_the_browser_closes() -> None:
    assert site_settings.SESSION_COOKIE_AGE == 30 * 60
    assert (
        site_settings.SESSION_SAVE_EVERY_REQUEST and site_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    )
    assert site_settings.SESSION_COOKIE_HTTPONLY
