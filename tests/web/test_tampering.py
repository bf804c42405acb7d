"""Tampering with the database is caught by ``verify_audit`` (issue 13 §2; AUD-1 to AUD-3).

Each test plays someone who holds a copy of the database but not the site's
audit key: she changes clinical rows behind the application's back, cuts or
rewrites the trail, or forges it with the published hashing scheme, and the
check must name what she did (table, row and field).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from ldntrial.web.audit.chain import (
    Head,
    canonical_content,
    chain_of,
    current_head,
    current_heads,
    record_event,
)
from ldntrial.web.audit.models import Action, AuditEntry
from ldntrial.web.audit.verification import verify_trail
from ldntrial.web.diary.entries import DiarySubmission, record_entry
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.trial.concealed import contents_of, sequence_of
from ldntrial.web.trial.dispensing import dispense_visit_kits
from ldntrial.web.trial.labs import record_esr
from ldntrial.web.trial.models import Kit, LabResult, Participant

from .lots import fill_from_a_lot
from .test_diary import ITEMS

pytestmark = [pytest.mark.django_db, pytest.mark.tampers]

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def recorded(enrolled: Participant) -> Participant:
    """Her first weeks: two diary days, a baseline ESR and the kit of visit 2."""
    for day in (date(2026, 3, 2), date(2026, 3, 3)):
        at = datetime.combine(day, datetime.min.time(), tzinfo=LA) + timedelta(hours=21)
        submission = DiarySubmission(
            client_id=uuid.uuid4(), diary_date=day, recorded_at=at, items=ITEMS
        )
        record_entry(
            enrolled,
            submission,
            received_at=at + timedelta(minutes=1),
            actor=f"participant:{enrolled.code}",
        )
    record_esr(enrolled, date(2026, 3, 2), 24.0, actor="user:1:cora")
    fill_from_a_lot(enrolled, 2)
    dispense_visit_kits(enrolled, 2, date(2026, 3, 16), actor="user:1:cora")
    assert verify_trail().intact
    return enrolled


def _as_attacker(*statements: str, params: list | None = None) -> None:
    """Raw SQL on the database, the way someone with the file or a superuser would write."""
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params or [])


def _without_trail_guards(*statements: str) -> None:
    """Switch off the append-only triggers first, as the database's owner can."""
    if connection.vendor == "sqlite":
        guards = ["audit_no_update", "audit_no_delete"]
        with connection.cursor() as cursor:
            saved = []
            for name in guards:
                cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [name])
                saved.append(cursor.fetchone()[0])
                cursor.execute(f"DROP TRIGGER {name}")
            for statement in statements:
                cursor.execute(statement)
            for sql in saved:
                cursor.execute(sql)
    else:
        _as_attacker(
            "ALTER TABLE audit_auditentry DISABLE TRIGGER USER",
            *statements,
            "ALTER TABLE audit_auditentry ENABLE TRIGGER USER",
        )


def _problems(*kept: Head) -> list[str]:
    check = verify_trail(kept)
    assert not check.intact
    return check.problems()


def test_a_changed_diary_value_is_named(recorded: Participant) -> None:
    entry = DiaryEntry.objects.filter(participant=recorded).order_by("pk").first()
    items = json.dumps({**ITEMS, "pain": 12})
    _as_attacker("UPDATE diary_diaryentry SET items = %s WHERE id = %s", params=[items, entry.pk])
    assert _problems() == [
        f"diary_diaryentry row {entry.pk}, field items: not the value the trail last recorded "
        "(changed outside ldntrial)"
    ]
    with pytest.raises(CommandError, match=f"diary_diaryentry row {entry.pk}, field items"):
        call_command("verify_audit")


def test_a_lab_value_times_ten_is_named(recorded: Participant) -> None:
    result = LabResult.objects.get(participant=recorded)
    _as_attacker("UPDATE trial_labresult SET value = value * 10")
    assert _problems() == [
        f"trial_labresult row {result.pk}, field value: not the value the trail last recorded "
        "(changed outside ldntrial)"
    ]


def test_a_deleted_diary_entry_is_named(recorded: Participant) -> None:
    entry = DiaryEntry.objects.filter(participant=recorded).order_by("pk").last()
    _as_attacker("DELETE FROM diary_diaryentry WHERE id = %s", params=[entry.pk])
    assert _problems() == [
        f"diary_diaryentry row {entry.pk}: written in the trail but missing from the table "
        "(deleted outside ldntrial)"
    ]


def test_a_row_added_behind_the_trail_is_named(recorded: Participant) -> None:
    _as_attacker(
        "INSERT INTO trial_labresult (participant_id, sampled_on, panel, analyte, value, unit) "
        "VALUES (%s, '2026-03-09', 'esr', 'esr', 31.0, 'mm/h')",
        params=[recorded.pk],
    )
    added = LabResult.objects.order_by("pk").last()
    assert _problems() == [
        f"trial_labresult row {added.pk}: in the table but never written in the trail (added "
        "outside ldntrial)"
    ]


def test_a_flipped_allocation_is_named_though_the_trail_never_shows_it(recorded) -> None:
    slot = recorded.slot
    other = "placebo-first" if sequence_of(slot) == "ldn-first" else "ldn-first"
    kit = Kit.objects.filter(slot=slot).order_by("kit_number").first()
    flipped = "placebo" if contents_of(kit).condition == "ldn" else "ldn"
    _as_attacker(
        "UPDATE trial_allocationslot SET sequence = %s WHERE id = %s", params=[other, slot.pk]
    )
    _as_attacker("UPDATE trial_kit SET condition = %s WHERE id = %s", params=[flipped, kit.pk])
    sealed = "not the concealed value the trail sealed (changed outside ldntrial)"
    assert _problems() == [
        f"trial_allocationslot row {slot.pk}, field sequence: {sealed}",
        f"trial_kit row {kit.pk}, field condition: {sealed}",
    ]
    # The slot's entries show the sequence only as a placeholder, the same for either value.
    entries = AuditEntry.objects.filter(record=f"trial.AllocationSlot:{slot.pk}")
    assert [e.changes["sequence"] for e in entries] == [[None, "<concealed>"]]


def test_a_removed_digest_of_a_concealed_value_is_named(recorded: Participant) -> None:
    slot = recorded.slot
    entry = AuditEntry.objects.get(record=f"trial.AllocationSlot:{slot.pk}")
    _as_attacker(
        "DROP TRIGGER concealed_no_delete"
        if connection.vendor == "sqlite"
        else "ALTER TABLE audit_concealedvalue DISABLE TRIGGER USER",
        f"DELETE FROM audit_concealedvalue WHERE entry = {entry.pk}",
    )
    assert _problems() == [
        f"trial_allocationslot row {slot.pk}, field sequence: the digest entry {entry.pk} "
        "sealed for this concealed value is missing"
    ]


def _entry(number: int) -> AuditEntry:
    """The trail's ``number``-th entry (ids come from a sequence, so they need not start at 1)."""
    return AuditEntry.objects.order_by("id")[number - 1]


def test_an_edited_entry_breaks_the_chain(recorded: Participant) -> None:
    fifth = _entry(5).id
    _without_trail_guards(f"UPDATE audit_auditentry SET reason = 'typo' WHERE id = {fifth}")
    problems = _problems()
    assert problems[0] == (
        f"audit entry {fifth}: does not match its keyed hash (changed after writing, or written "
        "without this site's audit key); the trail after it cannot be trusted"
    )


def test_a_forger_who_recomputes_every_hash_without_the_key_is_caught(recorded) -> None:
    """She rewrites an entry and re-hashes its chain from it with the published recipe."""
    third = _entry(3)
    _without_trail_guards(
        f"UPDATE audit_auditentry SET reason = 'entered in error' WHERE id = {third.id}",
    )
    chain = AuditEntry.objects.filter(chain=third.chain).order_by("id")
    previous = chain.filter(id__lt=third.id).last().hash
    rehashed = []
    for entry in chain.filter(id__gte=third.id):
        content = canonical_content(entry)  # the published recipe, without the key
        digest = hashlib.sha256((previous + content).encode()).hexdigest()
        rehashed.append((entry.id, previous, digest))
        previous = digest
    _without_trail_guards(
        *(
            f"UPDATE audit_auditentry SET previous_hash = '{before}', hash = '{after}' "
            f"WHERE id = {number}"
            for number, before, after in rehashed
        )
    )
    assert _problems()[0].startswith(f"audit entry {third.id}: does not match its keyed hash")


# SQLite: REPLACE deletes the row it replaces without firing the delete trigger.
# PostgreSQL: an upsert's DO UPDATE is an update.
OVERWRITES = {
    "sqlite": [
        "INSERT OR REPLACE INTO audit_auditentry (id, at, actor, action, record, changes, "
        "reason, previous_hash, hash) SELECT id, at, 'x', action, record, changes, reason, "
        "previous_hash, hash FROM audit_auditentry ORDER BY id LIMIT 1 OFFSET 1",
        "REPLACE INTO audit_concealedvalue (id, entry, field, digest) "
        "SELECT id, entry, field, 'f' FROM audit_concealedvalue LIMIT 1",
    ],
    "postgresql": [
        "INSERT INTO audit_auditentry (id, at, actor, action, record, changes, reason, "
        "previous_hash, hash) SELECT id, at, actor, action, record, changes, reason, "
        "previous_hash, hash FROM audit_auditentry ORDER BY id LIMIT 1 OFFSET 1 "
        "ON CONFLICT (id) DO UPDATE SET actor = 'x'",
        "INSERT INTO audit_concealedvalue (id, entry, field, digest) "
        "SELECT id, entry, field, digest FROM audit_concealedvalue LIMIT 1 "
        "ON CONFLICT (id) DO UPDATE SET digest = 'f'",
    ],
}


@pytest.mark.parametrize("table", [0, 1], ids=["entry", "concealed-value"])
def test_an_insert_over_history_is_refused(recorded: Participant, table: int) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _as_attacker(OVERWRITES[connection.vendor][table])
    assert verify_trail().intact


def test_the_daily_notice_keeps_every_chains_head_and_they_find_a_cut(
    recorded: Participant, mailoutbox
) -> None:
    """The emailed heads, one per chain, are what a later check needs (send_audit_head)."""
    from django.contrib.auth import get_user_model

    from ldntrial.web.studies.models import Membership
    from ldntrial.web.studies.roles import Role

    admin = get_user_model().objects.create_user("adam", "adam@example.org", "x" * 16)
    Membership.objects.create(
        user=admin, study=recorded.study, role=Role.STUDY_ADMIN, actor="system:test"
    )
    record_event(actor="user:9:ana", action=Action.SIGN, about=admin)  # the site's chain
    record_event(actor="user:9:ana", action=Action.EXPORT, about=recorded.study)
    call_command("send_audit_head")
    heads = current_heads()
    assert len(heads) == 2 and [m.to for m in mailoutbox] == [["adam@example.org"]]
    command = "verify_audit " + " ".join(f"--head {head}" for head in heads)
    assert command in mailoutbox[0].body
    kept = [Head.parse(head) for head in re.findall(r"--head (\S+)", mailoutbox[0].body)]
    assert kept == heads and verify_trail(kept).intact
    study_head = current_head(chain_of(recorded.study))
    _without_trail_guards(f"DELETE FROM audit_auditentry WHERE id = {study_head.entry}")
    assert _problems(*kept) == [
        f"kept head {study_head}: the trail has no entry {study_head.entry}: entries were cut "
        "off the end of its chain"
    ]
