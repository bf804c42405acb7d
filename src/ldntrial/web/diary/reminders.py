"""Diary reminders, worked out for one moment: what is due now, sent once each.

``ldntrial manage send_reminders`` runs :func:`send_due_reminders` every few
minutes (cron). For each active participant with reminders set:

- **first**: at her chosen local time, if the entry for the open report day
  is still missing. A time before the window opens (09:00 for an 18:00
  window) falls on the next morning, while the window is still open.
- **follow-up**: ``FOLLOW_UP_BEFORE`` before the window closes, if it is
  still missing (instead of the first, when that time has passed too).
- **a note to her site's coordinators** when she has missed two report days
  in a row (both windows closed with no entry), once for each run of misses.

Times are her local wall-clock times in her own zone, made exact instants
across daylight-saving changes by the core
(:func:`ldntrial.protocol.schedule.local_instant`). Each reminder is logged
(:class:`ReminderSent`, unique per day and kind) in the transaction that
decides to send it, and the email goes after commit: a run that overlaps
another, or runs again, sends nothing twice. Nothing goes to a withdrawn or
finished participant, or in a locked study (standards.md RET-4).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from ldntrial.protocol.diary_timing import open_report_day
from ldntrial.protocol.schedule import diary_window, local_instant
from ldntrial.web.diary.models import DiaryEntry, ReminderSent, ReminderSettings
from ldntrial.web.studies.roles import Role
from ldntrial.web.trial.models import Participant

__all__ = ["FOLLOW_UP_BEFORE", "Due", "due_reminders", "send_due_reminders", "set_reminders"]

FOLLOW_UP_BEFORE = timedelta(hours=2)
ACTOR = "system:send_reminders"


@dataclass(frozen=True)
class Due:
    participant: Participant
    report_day: date
    kind: str


def set_reminders(
    participant: Participant, *, actor: str, email: str, remind_at: time, active: bool = True
) -> ReminderSettings:
    """Her reminder address and time (a change is audited, with the reason of the caller)."""
    setting = ReminderSettings.objects.filter(participant=participant).first() or (
        ReminderSettings(participant=participant)
    )
    setting.email, setting.remind_at, setting.active = email, remind_at, active
    setting.full_clean()
    setting.save(actor=actor)
    return setting


def due_reminders(now: datetime, settings: ReminderSettings) -> Iterator[Due]:
    """What is due for her at ``now`` (before checking what was already sent)."""
    person = settings.participant
    diary = person.study.protocol.diary
    zone = ZoneInfo(person.timezone)
    first_day = person.enrolled_on
    last_day = first_day + timedelta(days=person.study.calendar_length - 1)
    closed = _last_closed_day(diary, now, zone)
    entered = set(
        DiaryEntry.objects.filter(
            participant=person, diary_date__gte=closed - timedelta(days=1)
        ).values_list("diary_date", flat=True)
    )
    day = open_report_day(diary, now, person.timezone)
    if day is not None and first_day <= day <= last_day and day not in entered:
        opens, closes = diary_window(diary, day, zone)
        first_at = local_instant(day, settings.remind_at, zone)
        if first_at < opens:  # a morning time: the next morning, inside the window
            first_at = local_instant(day + timedelta(days=1), settings.remind_at, zone)
        if closes - FOLLOW_UP_BEFORE <= now:
            yield Due(person, day, ReminderSent.Kind.FOLLOW_UP)
        elif first_at <= now:
            yield Due(person, day, ReminderSent.Kind.FIRST)
    pair = (closed - timedelta(days=1), closed)
    streak_told = ReminderSent.objects.filter(
        participant=person, kind=ReminderSent.Kind.MISSED_TWO, report_day=pair[0]
    ).exists()
    if not streak_told and all(first_day <= d <= last_day and d not in entered for d in pair):
        yield Due(person, closed, ReminderSent.Kind.MISSED_TWO)


def send_due_reminders(now: datetime, *, site_url: str) -> list[Due]:
    """Send everything due at ``now``; returns what was sent."""
    sent = []
    settings = ReminderSettings.objects.filter(
        active=True,
        participant__status=Participant.Status.ACTIVE,
        participant__study__locked_at__isnull=True,
    ).select_related("participant__study", "participant__site")
    for setting in settings:
        for due in due_reminders(now, setting):
            if _log_once(due, now):
                _send(due, setting, site_url)
                sent.append(due)
    return sent


def _log_once(due: Due, now: datetime) -> bool:
    try:
        with transaction.atomic():
            ReminderSent.objects.create(
                participant=due.participant,
                report_day=due.report_day,
                kind=due.kind,
                sent_at=now,
                actor=ACTOR,
            )
    except IntegrityError:
        return False  # sent already, by this run's predecessor or a run beside it
    return True


def _send(due: Due, setting: ReminderSettings, site_url: str) -> None:
    person = due.participant
    diary_url = site_url.rstrip("/") + "/diary/"
    if due.kind == ReminderSent.Kind.MISSED_TWO:
        coordinators = _coordinators(person)
        if coordinators:
            send_mail(
                subject=f"[{person.study.code}] {person.code}: two diary days missed",
                message=(
                    f"{person.code} (site {person.site.code}) made no diary entry on "
                    f"{due.report_day - timedelta(days=1):%Y-%m-%d} or {due.report_day:%Y-%m-%d}. "
                    "You may want to get in touch with her."
                ),
                from_email=None,
                recipient_list=coordinators,
            )
        return
    with translation.override(person.language):
        subject = (
            _("Your diary for today")
            if due.kind == ReminderSent.Kind.FIRST
            else _("Your diary closes soon")
        )
        message = _("Your diary for %(day)s is waiting. It takes a minute: %(url)s") % {
            "day": f"{due.report_day:%Y-%m-%d}",
            "url": diary_url,
        }
    send_mail(subject=subject, message=message, from_email=None, recipient_list=[setting.email])


def _coordinators(person: Participant) -> list[str]:
    """The coordinators of her site (or of every site) in her study."""
    users = get_user_model().objects.filter(
        Q(memberships__site=person.site) | Q(memberships__site__isnull=True),
        memberships__study=person.study,
        memberships__role=Role.COORDINATOR,
        memberships__ended_at__isnull=True,
        is_active=True,
    )
    return sorted({user.email for user in users if user.email})


def _last_closed_day(diary, now: datetime, zone: ZoneInfo) -> date:
    """The newest report day whose window has closed by ``now``."""
    day = now.astimezone(zone).date()
    while diary_window(diary, day, zone)[1] > now:
        day -= timedelta(days=1)
    return day
