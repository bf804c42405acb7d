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


@pytest.fixture
def enrolled(db):  # type: ignore[no-untyped-def]
    """A crossover-2013 study with one site and one participant enrolled on 2 March 2026 (LA)."""
    from datetime import date

    from ldntrial.protocol.loader import builtin_protocol_text
    from ldntrial.web.audit.tracking import acting_as
    from ldntrial.web.studies.models import Site, Study
    from ldntrial.web.trial.enrolment import enrol
    from ldntrial.web.trial.pharmacy import generate_allocation
    from ldntrial.web.trial.screening import record_screening

    from .test_trial import ELIGIBLE

    with acting_as("system:test"):
        study = Study.objects.create(
            code="diary", title="LDN", protocol_text=builtin_protocol_text("crossover-2013")
        )
        site = Site.objects.create(study=study, code="a", name="Site A")
        generate_allocation(study, per_stratum=4, seed=11)
        screening = record_screening(site, ELIGIBLE, date(2026, 3, 1))
        return enrol(
            screening, enrolled_on=date(2026, 3, 2), timezone="America/Los_Angeles"
        ).participant
