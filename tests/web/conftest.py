"""Fixtures for the database tests (run on SQLite and, by `make test`, on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection


@pytest.fixture
def audit_cleared_after(transactional_db) -> Iterator[None]:
    """For tests that commit: empty the append-only audit table before the database is flushed.

    Only a test may do this, and it does it as an administrator with the database
    would: by switching the guard off, deleting, and switching it back on.
    """
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_no_change")
            cursor.execute("DELETE FROM audit_auditentry")
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_no_change")
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'audit_no_delete'")
            (guard,) = cursor.fetchone()
            cursor.execute("DROP TRIGGER audit_no_delete")
            cursor.execute("DELETE FROM audit_auditentry")
            cursor.execute(guard)


@pytest.fixture(autouse=True)
def quick_password_hashing(settings) -> None:
    """Argon2 is slow on purpose; the cast of users in these tests need not be.

    The site's own setting is checked by test_accounts.py.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
