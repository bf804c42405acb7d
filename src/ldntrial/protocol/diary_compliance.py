"""Diary compliance: what each report day of a participant is, and her rates, defined exactly.

Standards.md EPRO-13, EPRO-15 and EPRO-16. A report day is scheduled from
her study day 1 to the last day of her calendar (or of her participation,
if she withdrew). A scheduled day is

- ``on_time``: an accepted entry recorded inside its window;
- ``late``: only a late entry (kept and flagged, where the protocol allows it);
- ``missed``: its window has closed with no accepted entry;
- ``open``: its window is open now and nothing is in yet;
- ``not_yet``: its window has not opened.

Compliance is the share of the days due (window closed, or already entered)
that have an on-time entry; late and missed days are counted apart. The
bands are those of the adherence literature standards.md EPRO-16 cites
(PMC8287614): 80 % or more strong, 60 % to 80 % moderate, below 60 % weak.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from ldntrial.protocol.model import DiarySettings
from ldntrial.protocol.schedule import diary_window

__all__ = ["Compliance", "DayStatus", "compliance_of", "day_statuses"]


class DayStatus(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"
    OPEN = "open"
    NOT_YET = "not_yet"
    NOT_SCHEDULED = "not_scheduled"


def day_statuses(
    diary: DiarySettings,
    *,
    days: Iterable[date],
    first_day: date,
    last_day: date,
    timezone: str,
    entries: Mapping[date, bool],
    now: datetime,
) -> dict[date, DayStatus]:
    """The status of each of ``days``; ``entries`` maps a report day to "any entry on time"."""
    zone = ZoneInfo(timezone)
    statuses = {}
    for day in days:
        if not first_day <= day <= last_day:
            statuses[day] = DayStatus.NOT_SCHEDULED
        elif day in entries:
            statuses[day] = DayStatus.ON_TIME if entries[day] else DayStatus.LATE
        else:
            opens, closes = diary_window(diary, day, zone)
            if now < opens:
                statuses[day] = DayStatus.NOT_YET
            elif now <= closes:
                statuses[day] = DayStatus.OPEN
            else:
                statuses[day] = DayStatus.MISSED
    return statuses


@dataclass(frozen=True)
class Compliance:
    """One participant's diary so far: days due (window closed), on time, late, missed."""

    due: int
    on_time: int
    late: int
    missed: int

    @property
    def rate(self) -> float | None:
        """On-time entries / days due; None before any day is due."""
        return self.on_time / self.due if self.due else None

    @property
    def band(self) -> str:
        """strong, moderate or weak (EPRO-16), or "" before any day is due."""
        if self.rate is None:
            return ""
        return "strong" if self.rate >= 0.8 else "moderate" if self.rate >= 0.6 else "weak"


def compliance_of(
    diary: DiarySettings,
    *,
    first_day: date,
    last_day: date,
    timezone: str,
    entries: Mapping[date, bool],
    now: datetime,
) -> Compliance:
    """Her compliance over every scheduled day from ``first_day`` to ``last_day`` so far."""
    local_today = now.astimezone(ZoneInfo(timezone)).date()
    end = min(last_day, local_today)
    span = [first_day + timedelta(days=k) for k in range(max((end - first_day).days + 1, 0))]
    statuses = day_statuses(
        diary,
        days=span,
        first_day=first_day,
        last_day=last_day,
        timezone=timezone,
        entries=entries,
        now=now,
    ).values()
    counts = {status: sum(1 for s in statuses if s == status) for status in DayStatus}
    on_time, late, missed = (
        counts[DayStatus.ON_TIME],
        counts[DayStatus.LATE],
        counts[DayStatus.MISSED],
    )
    return Compliance(due=on_time + late + missed, on_time=on_time, late=late, missed=missed)
