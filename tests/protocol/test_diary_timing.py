"""The diary window judged on the device clock, in her zone, across DST (EPRO-10 to EPRO-12)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ldntrial.protocol.diary_timing import Timing, judge_entry_time, open_report_day
from ldntrial.protocol.loader import load_protocol

LA = "America/Los_Angeles"
REJECTING = load_protocol("crossover-2013").diary  # 18:00 to 12:00 next day, late refused
FLAGGING = load_protocol("nof1").diary  # the same window, late kept and flagged, backfill 0


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("recorded_at", "timing"),
    [
        (utc(2026, 5, 5, 0, 59), Timing.TOO_EARLY),  # 17:59 PDT on the day
        (utc(2026, 5, 5, 1, 0), Timing.ON_TIME),  # 18:00 PDT: opens
        (utc(2026, 5, 5, 19, 0), Timing.ON_TIME),  # 12:00 PDT next day: still open
        (utc(2026, 5, 5, 19, 1), Timing.TOO_LATE),  # 12:01: closed
    ],
)
def test_the_window_opens_at_six_and_closes_at_noon_next_day(recorded_at, timing) -> None:
    assert judge_entry_time(REJECTING, date(2026, 5, 4), recorded_at, LA).timing == timing


def test_the_night_clocks_go_forward_the_window_is_an_hour_shorter() -> None:
    # Report day Saturday 7 March 2026: opens 18:00 PST (02:00Z), closes 12:00 PDT (19:00Z).
    verdict = judge_entry_time(REJECTING, date(2026, 3, 7), utc(2026, 3, 8, 19, 0), LA)
    assert verdict.timing == Timing.ON_TIME
    assert (verdict.opens, verdict.closes) == (utc(2026, 3, 8, 2, 0), utc(2026, 3, 8, 19, 0))
    assert verdict.closes.astimezone(UTC) - verdict.opens.astimezone(UTC) == timedelta(hours=17)
    # 11:30 by the old (PST) reckoning is 12:30 PDT: too late.
    late = judge_entry_time(REJECTING, date(2026, 3, 7), utc(2026, 3, 8, 19, 30), LA)
    assert late.timing == Timing.TOO_LATE


def test_the_night_clocks_go_back_the_window_is_an_hour_longer() -> None:
    verdict = judge_entry_time(REJECTING, date(2026, 10, 31), utc(2026, 11, 1, 20, 0), LA)
    assert verdict.timing == Timing.ON_TIME  # 12:00 PST = 20:00Z
    assert verdict.closes.astimezone(UTC) - verdict.opens.astimezone(UTC) == timedelta(hours=19)


def test_the_device_time_counts_whatever_its_offset() -> None:
    # The same instant written with the phone's own offset (she flew to New York).
    at = datetime(2026, 5, 5, 14, 30, tzinfo=ZoneInfo("America/New_York"))  # 11:30 PDT
    assert judge_entry_time(REJECTING, date(2026, 5, 4), at, LA).timing == Timing.ON_TIME


def test_a_flagging_protocol_keeps_a_late_entry_until_the_next_window_opens() -> None:
    late = judge_entry_time(FLAGGING, date(2026, 5, 4), utc(2026, 5, 5, 22, 0), LA)  # 15:00
    assert late.timing == Timing.LATE and late.accepted
    assert late.lateness_hours == pytest.approx(3.0)
    assert "3.0 h after the window closed" in late.message
    # At 18:00 the 5th's window opens: the 4th is now an earlier day (backfill 0).
    gone = judge_entry_time(FLAGGING, date(2026, 5, 4), utc(2026, 5, 6, 1, 0), LA)
    assert gone.timing == Timing.TOO_LATE and not gone.accepted


def test_backfill_days_lets_earlier_days_in_late() -> None:
    diary = FLAGGING.model_copy(update={"backfill_days": 2})
    two_back = judge_entry_time(diary, date(2026, 5, 4), utc(2026, 5, 7, 2, 0), LA)
    three_back = judge_entry_time(diary, date(2026, 5, 4), utc(2026, 5, 8, 2, 0), LA)
    assert (two_back.timing, three_back.timing) == (Timing.LATE, Timing.TOO_LATE)


def test_refusals_say_kindly_when_the_day_opens_or_closed() -> None:
    early = judge_entry_time(REJECTING, date(2026, 5, 4), utc(2026, 5, 4, 12, 0), LA)
    assert early.message == (
        "this day's diary opens on Monday 04 May at 18:00; it cannot be filled in ahead"
    )
    late = judge_entry_time(REJECTING, date(2026, 5, 4), utc(2026, 5, 6, 0, 0), LA)
    assert late.message.startswith("this day's diary closed on Tuesday 05 May at 12:00")


def test_a_time_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        judge_entry_time(REJECTING, date(2026, 5, 4), datetime(2026, 5, 5, 1, 0), LA)  # noqa: DTZ001


def test_lateness_counts_real_hours_across_the_change_of_clocks() -> None:
    # 6 March's window closes at 12:00 PST on the 7th; 12:00 PDT on the 8th is 23 h later.
    diary = FLAGGING.model_copy(update={"backfill_days": 2})
    at = datetime(2026, 3, 8, 12, 0, tzinfo=ZoneInfo(LA))  # the same zone object as the window
    verdict = judge_entry_time(diary, date(2026, 3, 6), at, LA)
    assert verdict.timing == Timing.LATE
    assert verdict.lateness_hours == pytest.approx(23.0)


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (utc(2026, 5, 5, 0, 59), None),  # 17:59 PDT on the 4th: between windows
        (utc(2026, 5, 5, 1, 0), date(2026, 5, 4)),  # 18:00: the 4th opens
        (utc(2026, 5, 5, 18, 0), date(2026, 5, 4)),  # 11:00 on the 5th: still the 4th
        (utc(2026, 5, 5, 19, 30), None),  # 12:30 on the 5th: closed, the 5th not yet open
    ],
)
def test_the_open_report_day(now, day) -> None:
    assert open_report_day(REJECTING, now, LA) == day
