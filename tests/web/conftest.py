"""Fixtures for the database tests (run on SQLite and, by `make test`, on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After every test that wrote to the database: the trail accounts for every row.

    The whole suite is thereby an attack on AUD-1: a write path that skips
    the trail (a raw UPDATE, a bulk_create, an update() on a queryset)
    leaves a row the trail does not know, and the test that took it fails.
    Tests that tamper on purpose are marked ``tampers``.
    """
    result = yield
    uses_database = item.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        getattr(item, "fixturenames", ())
    )
    if uses_database and not item.get_closest_marker("tampers"):
        from ldntrial.web.audit.verification import verify_trail

        check = verify_trail()
        assert check.intact, "the audit trail does not account for the data:\n" + "\n".join(
            check.problems()
        )
    return result


@pytest.fixture
def audit_cleared_after(transactional_db) -> Iterator[None]:
    """For tests that commit: empty the append-only audit table before the database is flushed.

    Only a test may do this, and it does it as an administrator with the database
    would: by switching the guard off, deleting, and switching it back on.
    """
    yield
    empty_the_audit_tables()


def empty_the_audit_tables() -> None:
    """Delete every audit row as a database administrator would: guards off, delete, guards on."""
    guards = {"audit_auditentry": "audit_no", "audit_concealedvalue": "concealed_no"}
    present = set(connection.introspection.table_names())  # none of the digests before 0004
    with connection.cursor() as cursor:
        for table, prefix in guards.items():
            if table not in present:
                continue
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {prefix}_change")
                cursor.execute(f"DELETE FROM {table}")
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {prefix}_change")
            else:
                cursor.execute(f"SELECT sql FROM sqlite_master WHERE name = '{prefix}_delete'")
                (guard,) = cursor.fetchone()
                cursor.execute(f"DROP TRIGGER {prefix}_delete")
                cursor.execute(f"DELETE FROM {table}")
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
    from ldntrial.web.studies.models import Site, Study
    from ldntrial.web.trial.enrolment import enrol
    from ldntrial.web.trial.pharmacy import generate_allocation
    from ldntrial.web.trial.screening import record_screening

    from .test_trial import ELIGIBLE

    study = Study.objects.create(
        code="diary",
        title="LDN",
        protocol_text=builtin_protocol_text("crossover-2013"),
        actor="system:test",
    )
    site = Site.objects.create(study=study, code="a", name="Site A", actor="system:test")
    generate_allocation(study, per_stratum=4, seed=11, actor="system:test")
    screening = record_screening(site, ELIGIBLE, date(2026, 3, 1), actor="system:test")
    return enrol(
        screening,
        enrolled_on=date(2026, 3, 2),
        timezone="America/Los_Angeles",
        actor="system:test",
    ).participant
