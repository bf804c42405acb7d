"""Reminders on a fixed calendar in her zone: first, follow-up, coordinators, once each, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from ldntrial.web.audit.tracking import because
from ldntrial.web.diary.entries import DiarySubmission, record_entry
from ldntrial.web.diary.models import ReminderSent
from ldntrial.web.diary.reminders import send_due_reminders, set_reminders
from ldntrial.web.studies.models import Membership
from ldntrial.web.trial.models import Participant
from ldntrial.web.trial.status import withdraw_participant

pytestmark = pytest.mark.django_db

LA = ZoneInfo("America/Los_Angeles")
SITE = "https://ldn.example.org"


def at(*parts: int) -> datetime:
    """A Los Angeles wall-clock time as an instant."""
    return datetime(*parts, tzinfo=LA).astimezone(UTC)


@pytest.fixture
def person(enrolled: Participant) -> Participant:  # enrolled on 2 March 2026, in LA
    set_reminders(enrolled, email="her@example.org", remind_at=time(20, 0), actor="user:3:cora")
    return enrolled


def _entry(person: Participant, day) -> None:  # type: ignore[no-untyped-def]
    items = {item.id: 50 for item in person.study.protocol.diary.items}
    record_entry(
        person,
        DiarySubmission(uuid4(), day, datetime.combine(day, time(21), tzinfo=LA), items),
        received_at=datetime.combine(day, time(21, 1), tzinfo=LA),
        actor=f"participant:{person.code}",
    )


def _run(now: datetime) -> list[tuple[str, str]]:
    return [(due.kind, str(due.report_day)) for due in send_due_reminders(now, site_url=SITE)]


def test_the_first_reminder_comes_at_her_time_once(person, mailoutbox) -> None:
    for day in range(1, 6):  # entries 1-5 April, so no coordinator note is due
        _entry(person, date(2026, 4, day))
    assert _run(at(2026, 4, 6, 19, 59)) == []
    assert _run(at(2026, 4, 6, 20, 0)) == [("first", "2026-04-06")]
    assert _run(at(2026, 4, 6, 20, 5)) == []  # cron again a few minutes later: nothing new
    (mail,) = mailoutbox
    assert mail.to == ["her@example.org"] and mail.subject == "Your diary for today"
    assert "https://ldn.example.org/diary/" in mail.body
    assert _run(at(2026, 4, 7, 10, 0)) == [("follow_up", "2026-04-06")]  # two hours left
    assert _run(at(2026, 4, 7, 10, 30)) == []
    assert [m.subject for m in mailoutbox] == ["Your diary for today", "Your diary closes soon"]


def test_nothing_is_sent_once_the_day_is_entered(person, mailoutbox) -> None:
    for day in range(4, 7):
        _entry(person, date(2026, 4, day))
    assert _run(at(2026, 4, 6, 21, 0)) == [] and mailoutbox == []


def test_a_morning_time_reminds_her_the_next_morning_in_the_window(person) -> None:
    with because("she prefers mornings"):
        set_reminders(person, email="her@example.org", remind_at=time(9, 0), actor="user:3:cora")
    for day in range(1, 6):
        _entry(person, date(2026, 4, day))
    assert _run(at(2026, 4, 6, 22, 0)) == []
    assert _run(at(2026, 4, 7, 9, 0)) == [("first", "2026-04-06")]


def test_the_night_clocks_go_forward_her_times_stay_her_times(person) -> None:
    for day in range(4, 7):  # 4-6 March entered
        _entry(person, date(2026, 3, day))
    # Saturday 7 March: 20:00 PST; the window closes at 12:00 PDT on the 8th (19:00Z).
    assert _run(datetime(2026, 3, 8, 3, 59, tzinfo=UTC)) == []
    assert _run(datetime(2026, 3, 8, 4, 0, tzinfo=UTC)) == [("first", "2026-03-07")]
    assert _run(datetime(2026, 3, 8, 16, 59, tzinfo=UTC)) == []  # 09:59 PDT
    assert _run(datetime(2026, 3, 8, 17, 0, tzinfo=UTC)) == [("follow_up", "2026-03-07")]


def test_two_missed_days_in_a_row_tell_her_coordinators_once(person, mailoutbox) -> None:
    cora = get_user_model().objects.create_user("cora", email="cora@site-a.example")
    Membership.objects.create(
        user=cora, study=person.study, site=person.site, role="coordinator", actor="system:test"
    )
    for day in range(1, 4):  # 1-3 April entered; 4 and 5 April missed
        _entry(person, date(2026, 4, day))
    assert _run(at(2026, 4, 6, 13, 0)) == [("missed_two", "2026-04-05")]
    note = mailoutbox[-1]
    assert note.to == ["cora@site-a.example"] and "2026-04-04 or 2026-04-05" in note.body
    assert "her@example.org" not in note.body
    assert _run(at(2026, 4, 7, 13, 0)) == []  # 6 April missed too: the same run of misses
    notes = ReminderSent.objects.filter(kind="missed_two")
    assert [str(n.report_day) for n in notes] == ["2026-04-05"]  # one note for the run


def test_nothing_goes_to_a_withdrawn_participant(person, mailoutbox) -> None:
    withdraw_participant(
        person, on=date(2026, 4, 5), reason="other", detail="moved away", actor="user:3:cora"
    )
    assert _run(at(2026, 4, 6, 20, 0)) == [] and mailoutbox == []


def test_her_reminder_is_in_her_language(person, mailoutbox) -> None:
    with because("she reads Spanish"):
        person.language = "es"
        person.save(actor="user:3:cora")
    for day in range(1, 6):
        _entry(person, date(2026, 4, day))
    _run(at(2026, 4, 6, 20, 0))
    assert mailoutbox[0].subject == "Su diario de hoy"
    assert mailoutbox[0].body.startswith("Su diario del 2026-04-06 le espera.")


def test_the_command_sends_nothing_after_her_diary_has_ended(person, capsys) -> None:
    call_command("send_reminders")  # now: her 22 weeks from 2 March 2026 are over
    assert capsys.readouterr().out == "sent 0\n"
