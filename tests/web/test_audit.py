"""The audit trail: chained, append-only on both engines, and tampering is found (AUD-1..3, D5)."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from ldntrial.web.audit.chain import (
    GENESIS,
    SITE_CHAIN,
    Head,
    canonical_content,
    current_head,
    current_heads,
    entry_hash,
    record_event,
    verify_chain,
)
from ldntrial.web.audit.models import Action, AuditEntry
from ldntrial.web.studies.models import Study

pytestmark = pytest.mark.django_db


def _user(pk: int, name: str) -> User:
    """An account as entries name it (the site's chain); nothing is saved."""
    return User(pk=pk, username=name)


def _three_events() -> list[AuditEntry]:
    return [
        record_event(actor="user:1:ana", action=Action.CREATE, about=_user(1, "ana")),
        record_event(
            actor="user:2:ben",
            action=Action.UPDATE,
            about=_user(1, "ana"),
            changes={"esr": [18.0, 21.5]},
            reason="transcription error",
        ),
        record_event(actor="system", action=Action.SIGN, about=_user(2, "ben")),
    ]


def test_entries_link_to_the_one_before() -> None:
    first, second, third = _three_events()
    assert first.previous_hash == GENESIS
    assert second.previous_hash == first.hash and third.previous_hash == second.hash
    assert first.id < second.id < third.id
    assert [e.id for e in AuditEntry.objects.all()] == [first.id, second.id, third.id]
    stored = AuditEntry.objects.get(id=second.id)
    assert stored.record == "auth.User:1" and stored.chain == SITE_CHAIN
    assert stored.changes == {"esr": [18.0, 21.5]} and stored.reason == "transcription error"
    assert entry_hash(stored) == stored.hash  # the stored copy hashes as written
    report = verify_chain()
    assert report.intact and report.entries == 3
    assert report.heads == (Head(third.id, third.hash),) and current_heads() == [report.heads[0]]


def test_each_study_writes_a_chain_of_its_own() -> None:
    """Entries about two studies and the site, interleaved, link within their own chains."""
    one, two = Study(pk=1, code="one"), Study(pk=2, code="two")
    written = [
        record_event(actor="system", action=Action.EXPORT, about=about)  # no row to reconcile
        for about in (one, two, _user(1, "ana"), one, two, one)
    ]
    chains = [entry.chain for entry in written]
    assert chains == ["study:1", "study:2", SITE_CHAIN, "study:1", "study:2", "study:1"]
    assert [w.previous_hash for w in written] == [
        GENESIS, GENESIS, GENESIS, written[0].hash, written[1].hash, written[3].hash
    ]  # fmt: skip
    assert json.loads(canonical_content(written[0]))["chain"] == "study:1"
    assert "chain" not in json.loads(canonical_content(written[2]))  # hashed as before chains
    report = verify_chain()
    assert report.intact and report.entries == 6
    newest = [Head(w.id, w.hash) for w in (written[2], written[4], written[5])]
    assert list(report.heads) == newest and current_heads() == newest
    assert current_head("study:2") == newest[1] and current_head("study:3") is None


@pytest.mark.tampers
def test_an_entry_moved_to_another_chain_is_found() -> None:
    """She files study 1's newest entry under study 2, to hide it from study 1's head."""
    one, two = Study(pk=1, code="one"), Study(pk=2, code="two")
    _first, moved = (record_event(actor="system", action="export", about=one) for _ in range(2))
    record_event(actor="system", action="export", about=two)
    _without_guard(f"UPDATE audit_auditentry SET chain = 'study:2' WHERE id = {moved.id}")
    report = verify_chain()
    assert (report.broken_at, report.problem) == (
        moved.id,
        "does not link to the entry before it in its chain",
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda second: AuditEntry.objects.filter(id=second).update(reason="nothing happened"),
        lambda second: AuditEntry.objects.filter(id=second).delete(),
        lambda second: connection.cursor().execute("UPDATE audit_auditentry SET actor = 'x'"),
        lambda second: connection.cursor().execute(
            f"DELETE FROM audit_auditentry WHERE id = {second}"
        ),
    ],
    ids=["orm-update", "orm-delete", "sql-update", "sql-delete"],
)
def test_the_database_refuses_to_change_history(change) -> None:
    second = _three_events()[1].id
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        change(second)
    assert verify_chain().intact and AuditEntry.objects.count() == 3


def _without_guard(statement: str) -> None:
    """Simulate someone with the database file or superuser rights: drop the guard, then write."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_no_update")
            cursor.execute("DROP TRIGGER audit_no_delete")
        else:
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        cursor.execute(statement)


@pytest.mark.tampers
@pytest.mark.parametrize("removed", [0, 1], ids=["first", "middle"])
def test_a_removed_entry_is_found(removed: int) -> None:
    events = _three_events()
    _without_guard(f"DELETE FROM audit_auditentry WHERE id = {events[removed].id}")
    report = verify_chain()
    after = events[removed + 1].id
    problem = "the entry before it in its chain is missing (removed)"
    assert (report.broken_at, report.problem) == (after, problem)
    with pytest.raises(CommandError, match=f"audit entry {after}: {re.escape(problem)}"):
        call_command("verify_audit")


def test_the_suite_runs_on_the_database_it_was_given() -> None:
    import os

    asked = os.environ.get("DATABASE_URL", "sqlite")
    assert connection.vendor == ("postgresql" if asked.startswith("postgres") else "sqlite")


def test_the_models_and_their_migrations_agree() -> None:
    from io import StringIO

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_every_audited_model_belongs_to_a_studys_trail() -> None:
    """A new kind of record cannot fall outside the monitor's view of its study (AUD-4)."""
    from django.apps import apps

    from ldntrial.web.audit.tracking import AuditedModel
    from ldntrial.web.studies.models import OfAStudy, Study, StudyData

    audited = [m for m in apps.get_models() if issubclass(m, AuditedModel)]
    outside = [
        m.__name__ for m in audited if m is not Study and not issubclass(m, StudyData | OfAStudy)
    ]
    assert outside == []
    assert {"DiaryEntry", "LabResult", "DoseReduction"} <= {m.__name__ for m in audited}


def test_a_negative_zero_is_stored_and_hashed_as_zero_so_the_chain_checks() -> None:
    """PostgreSQL's jsonb reads -0.0 back as 0.0; the chain hashes what is stored."""
    from ldntrial.web.audit.chain import record_event, verify_chain

    entry = record_event(
        actor="system:test",
        action="create",
        about=_user(1, "x"),
        changes={"v": [None, {"a": -0.0}]},
    )
    entry.refresh_from_db()
    assert str(entry.changes["v"][1]["a"]) == "0.0" and verify_chain().intact


def test_big_floats_are_sealed_as_the_database_gives_them_back() -> None:
    """jsonb keeps numbers as exact decimals: 1e23 comes back as the integer 10**23. A
    degenerate analysis (a t statistic of 1e17) made a sealed lock read as tampered."""
    from django.db import models

    from ldntrial.web.audit.chain import record_event, verify_chain
    from ldntrial.web.audit.sealing import canonical_value

    value = {"a": 1e23, "b": 1e16, "c": -0.0, "d": 1.5, "e": [1.2345678901234568e17]}
    entry = record_event(
        actor="system:test", action="create", about=_user(1, "x"), changes={"v": [None, value]}
    )
    entry.refresh_from_db()
    stored = entry.changes["v"][1]
    assert verify_chain().intact
    field = models.JSONField()
    assert canonical_value(field, value) == canonical_value(field, stored)
    assert canonical_value(field, value) == (
        '{"a":100000000000000000000000,"b":10000000000000000,"c":0.0,"d":1.5,'
        '"e":[123456789012345680]}'
    )


@pytest.mark.tampers  # it writes a trail the way an earlier version did, around the ORM
@pytest.mark.django_db(transaction=True)
def test_upgrading_seals_a_trail_written_with_plain_sha256(audit_cleared_after) -> None:
    """A site upgraded from the unkeyed chain keeps its history, re-hashed under the key;
    a trail already broken is refused, not laundered into a sealed one."""
    import hashlib
    import json as json_module

    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    from ldntrial.web.audit.chain import canonical_content

    def migrate(target: str) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([("audit", target)])

    def write_old_trail(*, broken: bool) -> None:
        previous = GENESIS
        for number, reason in enumerate(["created", "transcription error", "locked"], 1):
            entry = AuditEntry(
                id=number, at=timezone.now(), actor="user:1:ana", action="update",
                record=f"web.Study:{number}", changes={"esr": [18.0, 21.5]}, reason=reason,
                previous_hash=previous,
            )  # fmt: skip
            digest = hashlib.sha256((previous + canonical_content(entry)).encode()).hexdigest()
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO audit_auditentry (id, at, actor, action, record, changes, "
                    "reason, previous_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [entry.id, entry.at, entry.actor, entry.action, entry.record,
                     json_module.dumps(entry.changes),
                     "edited later" if broken and number == 2 else reason, previous, digest],
                )  # fmt: skip
            previous = digest

    migrate("0003_import_action")
    write_old_trail(broken=False)
    migrate("0004_sealed")
    migrate("0005_chains")  # the sealed trail becomes the site's chain, hashed as it was
    report = verify_chain()
    assert report.intact and report.entries == 3
    assert all(entry_hash(entry) == entry.hash for entry in AuditEntry.objects.all())
    # The next entry takes the id after the last (PostgreSQL's sequence was moved past it).
    with transaction.atomic():
        fourth = record_event(actor="system:test", action=Action.SIGN, about=_user(1, "ana"))
    assert (fourth.id, fourth.chain, fourth.previous_hash) == (4, SITE_CHAIN, report.heads[0].hash)
    assert verify_chain().intact

    from .conftest import empty_the_audit_tables

    empty_the_audit_tables()
    migrate("0003_import_action")
    write_old_trail(broken=True)
    with pytest.raises(RuntimeError, match="audit entry 2: changed after writing"):
        migrate("0004_sealed")
    # The refused upgrade left the old trail as it was, and the database at 0003.
    assert AuditEntry.objects.filter(id=2, reason="edited later").exists()
    empty_the_audit_tables()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _bulk_writes(manager) -> dict[str, object]:
    return {
        "update()": lambda: manager.all().update(pk=0),
        "bulk_create()": lambda: manager.bulk_create([manager.model()]),
        "bulk_update()": lambda: manager.bulk_update([], fields=["pk"]),
        "delete()": lambda: manager.all().delete(),
    }


def test_every_manager_of_every_audited_model_refuses_writes_that_skip_the_trail() -> None:
    """A bulk write would leave rows the trail does not know: it fails before the database."""
    from django.apps import apps

    from ldntrial.web.audit.tracking import AuditedModel, AuditError

    audited = [m for m in apps.get_models() if issubclass(m, AuditedModel)]
    assert len(audited) >= 10
    before = AuditEntry.objects.count()
    for model in audited:
        for manager in model._meta.managers:
            for method, write in _bulk_writes(manager).items():
                with pytest.raises(AuditError, match=f"{re.escape(method)} on .* skip the audit"):
                    write()
    assert AuditEntry.objects.count() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("audit_cleared_after")
def test_a_study_writes_while_another_studys_chain_is_held() -> None:
    """No lock is shared by every audited write: each chain has its own (issue 17).

    One study's writer holds its chain through an open transaction; a write to
    another study goes ahead at once, and a second write to the held study waits.
    """
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the PostgreSQL pass of CI runs this")
    import threading
    import time

    from django.db import OperationalError

    from ldntrial.protocol.loader import builtin_protocol_text

    one, two = (
        Study.objects.create(
            code=code,
            title=code,
            protocol_text=builtin_protocol_text("crossover-2013"),
            actor="system:test",
        )
        for code in ("one", "two")
    )
    holding, release = threading.Event(), threading.Event()

    def hold_study_one() -> None:
        try:
            with transaction.atomic():
                record_event(actor="system:test", action=Action.EXPORT, about=one)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_study_one)
    holder.start()
    try:
        assert holding.wait(10)
        with transaction.atomic():
            connection.cursor().execute("SET LOCAL lock_timeout = '2s'")
            started = time.perf_counter()
            record_event(actor="system:test", action=Action.EXPORT, about=two)
            assert time.perf_counter() - started < 1.0
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            connection.cursor().execute("SET LOCAL lock_timeout = '200ms'")
            record_event(actor="system:test", action=Action.EXPORT, about=one)
    finally:
        release.set()
        holder.join()
    report = verify_chain()
    assert report.intact and len(report.heads) == 2
