"""Locking the database and unblinding the locked snapshot (AUD-8, SIG-1, SIG-4, GCP-3, BLD-1)."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet

from ldntrial.stats import analyze
from ldntrial.web.analysis.locking import (
    blinded_snapshot,
    lock_database,
    locked_snapshot,
    unblind_snapshot,
)
from ldntrial.web.analysis.models import DatabaseLock
from ldntrial.web.audit.chain import Head
from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.audit.tracking import CONCEALED, because
from ldntrial.web.diary.entries import DiarySubmission, record_entry
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.studies.models import Study, StudyLocked
from ldntrial.web.trial.models import AdverseEvent, Participant
from ldntrial.web.trial.safety import report_adverse_event

from .test_snapshot import _imported_study

pytestmark = pytest.mark.django_db

PASSWORD = "locking the crossover 2026"
STATEMENT = "all queries resolved; data complete"


@pytest.fixture
def people():  # type: ignore[no-untyped-def]
    make = get_user_model().objects.create_user
    return {"adam": make("adam", password=PASSWORD), "stan": make("stan", password=PASSWORD)}


@pytest.fixture
def imported():  # type: ignore[no-untyped-def]
    """(study, the simulated trial it was built from)."""
    return _imported_study("crossover-2013", n=6, seed=3)[:2]


@pytest.fixture
def study(imported):  # type: ignore[no-untyped-def]
    return imported[0]


def _lock(study: Study, user, **changes) -> DatabaseLock:  # type: ignore[no-untyped-def]
    # These tests are about the lock itself, not its checklist (test_participant_record).
    fields = {
        "password": PASSWORD,
        "statement": STATEMENT,
        "past_checklist": "test: casebooks reviewed on paper",
        **changes,
    }
    return lock_database(study, user, **fields)


def _unblind(lock: DatabaseLock, user, **changes) -> DatabaseLock:  # type: ignore[no-untyped-def]
    fields = {"password": PASSWORD, "reason": "database locked; SAP v1.0 signed", **changes}
    return unblind_snapshot(lock, user, **fields)


def test_a_lock_is_signed_and_stores_the_snapshot_with_its_checksum(study, people) -> None:
    lock = _lock(study, people["adam"])
    study.refresh_from_db()
    assert study.locked_at == lock.locked_at and lock.locked_by == people["adam"]
    assert lock.rows["diary days"] == 832 and lock.rows["participants"] == 6
    head = Head.parse(lock.audit_head)  # the trail's head when she signed, to keep
    assert AuditEntry.objects.get(id=head.entry).hash == head.hash
    chain = AuditEntry.objects.filter(chain=f"study:{study.pk}", id__gt=head.entry)
    assert chain.order_by("id").first().record == f"analysis.DatabaseLock:{lock.pk}"
    assert len(lock.bundle_sha256) == 64
    assert locked_snapshot(lock).participants["participant_id"].tolist() == [
        f"P0000{k}" for k in range(1, 7)
    ]
    trail = AuditEntry.objects.filter(record=f"studies.Study:{study.pk}").order_by("id")
    change, signed = trail[len(trail) - 2], trail[len(trail) - 1]
    assert change.action == "update" and change.reason.startswith("database lock: the data are")
    # The statement keeps what was still open and why the lock went ahead all the same.
    assert signed.action == "lock" and signed.reason.startswith(f"{STATEMENT} (locked with ")
    assert signed.reason.endswith("open: test: casebooks reviewed on paper)")
    assert signed.changes == {"bundle_sha256": [None, CONCEALED]}  # an oracle for the arms
    assert lock.bundle_sha256 not in str(AuditEntry.objects.values_list("changes", flat=True))
    # The snapshot holds the allocation: the trail says it was stored, never what it holds.
    created = AuditEntry.objects.get(record=f"analysis.DatabaseLock:{lock.pk}", action="create")
    assert created.changes["bundle"] == [None, CONCEALED]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"password": "not mine"}, "password"), ({"statement": "  "}, "statement")],
)
def test_a_lock_without_password_or_statement_is_refused(study, people, changes, field) -> None:
    with pytest.raises(ValidationError) as raised:
        _lock(study, people["adam"], **changes)
    assert field in raised.value.message_dict
    study.refresh_from_db()
    assert study.locked_at is None and not DatabaseLock.objects.exists()


def test_a_missing_baseline_esr_names_the_participant_and_nothing_is_locked(people) -> None:
    study = _imported_study("crossover-2013", n=2, seed=8)[0]
    person = Participant.objects.get(study=study, code="P00002")
    person.screening.answers["esr_mm_h"] = None
    with because("test: the ESR was never measured"):
        person.screening.save(actor="system:test")
        for result in person.lab_results.all():
            result.delete(actor="system:test")
    with pytest.raises(ValidationError, match="no baseline ESR for P00002"):
        _lock(study, people["adam"])
    study.refresh_from_db()
    assert study.locked_at is None


def test_nothing_is_entered_after_the_lock_and_a_second_lock_is_refused(study, people) -> None:
    _lock(study, people["adam"])
    person = Participant.objects.get(study=study, code="P00001")
    with pytest.raises(StudyLocked, match="locked for analysis"):
        report_adverse_event(
            person,
            term="headache",
            onset=date(2025, 3, 1),
            severity="mild",
            serious=False,
            related="possible",
            outcome="recovering",
            actor="user:3:cora",
        )
    assert not AdverseEvent.objects.filter(participant=person, term="headache").exists()
    with pytest.raises(ValidationError, match="already locked"):
        _lock(study, people["adam"])


def test_unblinding_runs_the_analyses_on_the_stored_bytes(imported, people) -> None:
    study, simulated = imported
    lock = _unblind(_lock(study, people["adam"]), people["stan"])
    assert lock.unblinded_by == people["stan"] and lock.analysis_error == ""
    expected = analyze(simulated).to_dict()  # the known answer: the simulation's own analysis
    for key in ("flow", "primary", "mixed_model", "responders", "safety", "blinding"):
        assert lock.analysis[key] == expected[key], key
    assert lock.report_html.startswith("<!DOCTYPE html>")
    entry = AuditEntry.objects.get(record=f"analysis.DatabaseLock:{lock.pk}", action="unblind")
    assert entry.reason == "database locked; SAP v1.0 signed"
    saved = AuditEntry.objects.filter(record=f"analysis.DatabaseLock:{lock.pk}", action="update")
    assert saved.get().changes["report_html"][1] == CONCEALED
    with pytest.raises(ValidationError, match="already unblinded"):
        _unblind(lock, people["stan"])


@pytest.mark.tampers
def test_a_changed_snapshot_is_detected_before_it_is_read(study, people) -> None:
    lock = _lock(study, people["adam"])
    tampered = bytearray(lock.bundle)
    tampered[len(tampered) // 2] ^= 0xFF
    # As someone with the database's password would: around the model and its trail.
    QuerySet(DatabaseLock).filter(pk=lock.pk).update(bundle=bytes(tampered))
    lock.refresh_from_db()
    with pytest.raises(ValidationError, match="does not match its SHA-256"):
        locked_snapshot(lock)


def test_the_blinded_snapshot_masks_the_allocation(study, people) -> None:
    blinded = blinded_snapshot(_lock(study, people["adam"]))
    assert blinded.blinded
    assert set(blinded.participants["sequence"]) == {"blinded"}
    assert set(blinded.diary["condition"].astype(str)) <= {"blinded", "none"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("audit_cleared_after")
def test_the_lock_waits_for_an_entry_in_flight_and_keeps_it(people) -> None:
    """A diary entry whose transaction is open when the lock is asked for is in the snapshot."""
    study = _imported_study("crossover-2013", n=1, seed=9)[0]
    person = Participant.objects.get(study=study)
    with because("test: she is still in the study"):
        person.status = Participant.Status.ACTIVE
        person.save(actor="system:test")
    last_day = DiaryEntry.objects.filter(participant=person).latest("diary_date").diary_date
    day = last_day  # a correction of her last day, recorded inside its window
    entry_open, lock_started = threading.Event(), threading.Event()

    recorded_at = datetime.combine(day, time(22, 0), tzinfo=ZoneInfo(person.timezone))

    def send_entry() -> None:
        try:
            with transaction.atomic():
                record_entry(
                    person,
                    DiarySubmission(
                        client_id=uuid4(),
                        diary_date=day,
                        recorded_at=recorded_at,
                        items=_items(person),
                    ),
                    received_at=recorded_at + timedelta(minutes=30),
                    actor=f"participant:{person.code}",  # synced soon after
                )
                entry_open.set()
                lock_started.wait(5)
                threading.Event().wait(0.5)  # the lock is asked for while this is still open
        finally:
            connection.close()

    writer = threading.Thread(target=send_entry)
    writer.start()
    assert entry_open.wait(5)
    lock_started.set()
    try:
        lock = _lock(study, people["adam"])
    finally:
        writer.join()
    snapshot = locked_snapshot(lock)
    days = snapshot.diary[["participant_id", "date"]].drop_duplicates()
    assert lock.rows["diary days"] == len(days)
    latest = DiaryEntry.objects.filter(participant=person, diary_date=day).latest("version")
    assert latest.version == 2  # the entry in flight committed before the lock, and counts
    taken = snapshot.diary[snapshot.diary["date"] == str(day)]
    assert taken.set_index("item")["value"].to_dict() == {
        k: float(v) for k, v in latest.items.items()
    }


def _items(person: Participant) -> dict[str, float]:
    return {item.id: 33.0 for item in person.study.protocol.diary.items}
