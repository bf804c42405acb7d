"""Whether a diary entry may be made now: the protocol window, judged on the device clock.

Standards.md EPRO-10 to EPRO-12. The entry for report day D opens at
``diary.opens`` local time on D and closes at ``diary.closes`` (on D + 1
when ``closes_next_day``), in the participant's own time zone, so the
window is an exact instant even on the nights clocks change. It is judged
on the time the entry was recorded on the device, not when it reached the
server: an entry made in the window and sent a week later is on time.

After the window closes, ``late_entries = "reject"`` refuses the entry;
``"flag"`` accepts it, marked late with its lateness in hours, for as long
as no more than ``backfill_days`` newer report days have opened since (0:
until the next evening's window opens). A day that has not opened yet can
never be entered (no forward-filling).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from ldntrial.protocol.model import DiarySettings
from ldntrial.protocol.schedule import diary_window
from ldntrial.vocab import LateEntryPolicy

__all__ = ["EntryTiming", "Timing", "judge_entry_time", "open_report_day"]


class Timing(StrEnum):
    """How an entry's recorded time stands to its day's window."""

    ON_TIME = "on_time"
    LATE = "late"  # after the window, accepted and flagged (late_entries = "flag")
    TOO_EARLY = "too_early"  # before the window opened: refused
    TOO_LATE = "too_late"  # after the window, refused


@dataclass(frozen=True)
class EntryTiming:
    """The verdict on one entry's time, with what a participant should be told."""

    timing: Timing
    opens: datetime
    closes: datetime
    lateness_hours: float | None = None

    @property
    def accepted(self) -> bool:
        return self.timing in (Timing.ON_TIME, Timing.LATE)

    @property
    def message(self) -> str:
        """Kind, plain words naming the rule (EPRO-11), in her local time."""
        opens, closes = (f"{t:%A %d %B at %H:%M}" for t in (self.opens, self.closes))
        if self.timing == Timing.TOO_EARLY:
            return f"this day's diary opens on {opens}; it cannot be filled in ahead"
        if self.timing == Timing.TOO_LATE:
            return (
                f"this day's diary closed on {closes}; thank you for trying. "
                "Tonight's entry is the one that counts now"
            )
        if self.timing == Timing.LATE:
            return f"recorded {self.lateness_hours:.1f} h after the window closed; kept as late"
        return "on time"


def judge_entry_time(
    diary: DiarySettings, report_day: date, recorded_at: datetime, timezone: str
) -> EntryTiming:
    """Judge an entry for ``report_day`` recorded on the device at ``recorded_at`` (aware)."""
    if recorded_at.tzinfo is None:
        raise ValueError("recorded_at must carry its UTC offset")
    zone = ZoneInfo(timezone)
    # In UTC: Python subtracts two times of one zone by their wall clocks, DST ignored.
    recorded_at = recorded_at.astimezone(UTC)
    opens, closes = diary_window(diary, report_day, zone)
    if recorded_at < opens:
        return EntryTiming(Timing.TOO_EARLY, opens, closes)
    if recorded_at <= closes:
        return EntryTiming(Timing.ON_TIME, opens, closes)
    lateness = (recorded_at - closes.astimezone(UTC)).total_seconds() / 3600
    if diary.late_entries == LateEntryPolicy.REJECT:
        return EntryTiming(Timing.TOO_LATE, opens, closes, lateness)
    newer_days_open = (_latest_open_day(diary, recorded_at, zone) - report_day).days
    if newer_days_open > diary.backfill_days:
        return EntryTiming(Timing.TOO_LATE, opens, closes, lateness)
    return EntryTiming(Timing.LATE, opens, closes, lateness)


def _latest_open_day(diary: DiarySettings, at: datetime, zone: ZoneInfo) -> date:
    """The newest report day whose window had opened by ``at``."""
    local_day = at.astimezone(zone).date()
    opened_today = diary_window(diary, local_day, zone)[0] <= at
    return local_day if opened_today else local_day - timedelta(days=1)


def open_report_day(diary: DiarySettings, now: datetime, timezone: str) -> date | None:
    """The report day whose window is open at ``now`` in her zone, or None between windows."""
    zone = ZoneInfo(timezone)
    now = now.astimezone(UTC)
    local_day = now.astimezone(zone).date()
    for day in (local_day, local_day - timedelta(days=1)):
        opens, closes = diary_window(diary, day, zone)
        if opens.astimezone(UTC) <= now <= closes.astimezone(UTC):
            return day
    return None
