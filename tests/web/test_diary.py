"""Storing diary entries: rules, retries, versions, the lock (EPRO-3, EPRO-6, EPRO-11, AUD-3)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone as django_timezone

from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.audit.tracking import because
from ldntrial.web.diary.entries import DiaryConflict, DiarySubmission, record_entry
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.studies.models import StudyLocked
from ldntrial.web.trial.models import Participant

pytestmark = pytest.mark.django_db

PDT = timezone(timedelta(hours=-7))
ITEMS = {
    "pain": 62,
    "fatigue": 55,
    "sleep_quality": 40,
    "mood": 50,
    "satisfaction": 45,
    "symptoms": 58,
}
DAY = date(2026, 4, 6)  # study day 36
EVENING = datetime(2026, 4, 6, 21, 15, tzinfo=PDT)


def _submit(participant: Participant, received_at: datetime | None = None, **changes) -> object:
    fields = {
        "client_id": uuid4(),
        "diary_date": DAY,
        "recorded_at": EVENING,
        "items": ITEMS,
        "side_effects": ["vivid_dreams"],
        **changes,
    }
    # Sent an hour after it was made (the server bounds the phone's clock: SYNC_LIMIT).
    received_at = received_at or fields["recorded_at"] + timedelta(hours=1)
    return record_entry(
        participant,
        DiarySubmission(**fields),
        received_at=received_at,
        actor=f"participant:{participant.code}",
    )


def test_an_entry_is_stored_with_device_and_server_times(enrolled: Participant) -> None:
    recorded = _submit(enrolled)
    entry = DiaryEntry.objects.get()
    assert recorded.created and entry == recorded.entry
    assert (entry.version, entry.items["pain"], entry.side_effects) == (1, 62.0, ["vivid_dreams"])
    assert entry.recorded_at == datetime(2026, 4, 7, 4, 15, tzinfo=UTC)
    assert entry.recorded_offset_minutes == -420 and not entry.late
    assert entry.received_at > entry.recorded_at
    trail = AuditEntry.objects.get(record=f"diary.DiaryEntry:{entry.pk}")
    assert trail.actor == f"participant:{enrolled.code}" and trail.action == "create"


def test_a_retry_returns_the_stored_entry_and_stores_nothing(enrolled: Participant) -> None:
    key = UUID("0b7c2f7e-9a55-4c11-8f0e-2d54a3f4c001")
    first = _submit(enrolled, client_id=key)
    again = _submit(enrolled, client_id=key)
    assert first.created and not again.created
    assert again.entry.pk == first.entry.pk and DiaryEntry.objects.count() == 1


def test_the_same_id_with_other_content_is_a_conflict(enrolled: Participant) -> None:
    key = uuid4()
    _submit(enrolled, client_id=key)
    with pytest.raises(DiaryConflict) as raised:
        _submit(enrolled, client_id=key, items={**ITEMS, "pain": 63})
    assert raised.value.stored.items["pain"] == 62.0
    assert "client_id" in raised.value.message_dict
    assert DiaryEntry.objects.get().items["pain"] == 62.0


def test_a_correction_in_the_window_is_a_new_version(enrolled: Participant) -> None:
    _submit(enrolled)
    _submit(enrolled, items={**ITEMS, "pain": 48}, recorded_at=EVENING + timedelta(hours=1))
    versions = list(DiaryEntry.objects.order_by("version").values_list("version", "items"))
    assert [(v, items["pain"]) for v, items in versions] == [(1, 62.0), (2, 48.0)]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"items": {**ITEMS, "pain": 101}}, "items.pain", "from 0 to 100, got 101"),
        ({"items": {**ITEMS, "pain": True}}, "items.pain", "got True"),
        ({"items": {**ITEMS, "pain": float("nan")}}, "items.pain", "got nan"),
        ({"items": {**ITEMS, "itch": 3}}, "items.itch", "not an item of this diary"),
        ({"items": {"pain": 50}}, "items.fatigue", "required"),
        ({"side_effects": ["hiccups"]}, "side_effects", "not on the checklist: hiccups"),
        ({"diary_date": date(2026, 3, 1)}, "diary_date", "not a day of her diary"),
        (
            {"recorded_at": datetime(2026, 4, 7, 12, 30, tzinfo=PDT)},
            "diary_date",
            "closed on Tuesday 07 April at 12:00",
        ),
        (
            {"recorded_at": datetime(2026, 4, 6, 9, 0, tzinfo=PDT)},
            "diary_date",
            "opens on Monday 06 April at 18:00",
        ),
    ],
)
def test_a_bad_entry_names_the_field_and_stores_nothing(
    enrolled: Participant, changes, field, message
) -> None:
    with pytest.raises(ValidationError) as raised:
        _submit(enrolled, **changes)
    assert message in " ".join(raised.value.message_dict[field])
    assert DiaryEntry.objects.count() == 0


def test_a_withdrawn_participant_keeps_her_entries_but_makes_no_new_one(enrolled) -> None:
    _submit(enrolled)
    with because("withdrew consent"):
        enrolled.status = Participant.Status.WITHDRAWN
        enrolled.save(actor="user:3:cora")
    with pytest.raises(ValidationError, match="her diary is closed: she is withdrawn"):
        _submit(enrolled, diary_date=DAY + timedelta(days=1), recorded_at=EVENING + timedelta(1))
    assert DiaryEntry.objects.count() == 1


def test_nothing_is_written_to_a_locked_study(enrolled: Participant) -> None:
    _submit(enrolled)
    study = enrolled.study
    with because("locked as lock_database does, without the snapshot"):
        study.locked_at = django_timezone.now()
        study.save(actor="system:test")
    with pytest.raises(StudyLocked, match="locked for analysis"):
        _submit(enrolled, recorded_at=EVENING + timedelta(minutes=5))
    assert DiaryEntry.objects.count() == 1


def test_a_day_not_yet_open_by_the_server_clock_is_refused_whatever_the_phone_says(
    enrolled: Participant,
) -> None:
    future = django_timezone.localdate() + timedelta(days=2)  # a phone set days ahead
    with because("test: enrolled later"):
        enrolled.enrolled_on = future - timedelta(days=30)
        enrolled.save(actor="system:test")
    evening = datetime.combine(future, EVENING.timetz())
    with pytest.raises(ValidationError, match="the phone's clock is ahead"):
        _submit(
            enrolled, diary_date=future, recorded_at=evening, received_at=django_timezone.now()
        )
    assert DiaryEntry.objects.count() == 0


def test_the_dashboard_heat_map_shows_each_day_and_her_rate(enrolled, monkeypatch) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from ldntrial.web.studies.models import Membership

    now = datetime(2026, 4, 10, 20, 0, tzinfo=UTC)  # 13:00 PDT: the 9th closed at noon
    for day in range(1, 6):  # 1 to 5 April, each on its evening
        evening = datetime(2026, 4, day, 21, 0, tzinfo=PDT)
        _submit(enrolled, diary_date=date(2026, 4, day), recorded_at=evening)
    monkeypatch.setattr(django_timezone, "now", lambda: now)
    user = get_user_model().objects.create_user("cora", password="x" * 12)
    Membership.objects.create(
        user=user, study=enrolled.study, role="coordinator", actor="system:test"
    )
    client = Client()
    client.force_login(user)
    page = client.get(reverse("staff:dashboard", kwargs={"code": enrolled.study.code})).text
    row = page[page.index(f">{enrolled.code}</a></th>") :].split("</tr>")[0]
    cells = re.findall(r'class="d d-(\w+)"', row)
    # 14 March to 10 April: missed to the 31st, on time 1 to 5 April, missed 6 to 9, not yet.
    assert cells == ["missed"] * 18 + ["on_time"] * 5 + ["missed"] * 4 + ["not_yet"]
    assert '<td class="band-weak">13 %</td>' in row  # 5 on time of 39 days due
    assert "2026-04-06 missed" in row  # what a screen reader hears


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("audit_cleared_after")
def test_entries_sent_at_once_from_two_phones_get_one_version_each(enrolled) -> None:
    """Two of her phones sending at the same moment: no collision, no 500 (was one, under load)."""
    from concurrent.futures import ThreadPoolExecutor

    def send(pain: int) -> bool:
        try:
            return _submit(enrolled, items={**ITEMS, "pain": pain}).created
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        created = list(pool.map(send, range(30, 42)))
    assert created == [True] * 12
    versions = sorted(DiaryEntry.objects.values_list("version", flat=True))
    assert versions == list(range(1, 13))
