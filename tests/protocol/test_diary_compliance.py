"""Report-day statuses and compliance on a fixed calendar across a change of clocks (EPRO-13)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ldntrial.protocol.diary_compliance import DayStatus, compliance_of, day_statuses
from ldntrial.protocol.loader import load_protocol

DIARY = load_protocol("crossover-2013").diary  # 18:00 to 12:00 next day
LA = "America/Los_Angeles"
FIRST = date(2026, 3, 1)
DAYS = [FIRST + timedelta(days=k) for k in range(-1, 9)]  # 28 Feb to 9 March
# 1 on time, 2 late, 3 and 4 missed, 5 on time, 6 and 7 missed, 8 open
ENTRIES = {date(2026, 3, 1): True, date(2026, 3, 2): False, date(2026, 3, 5): True}
# Monday 9 March, 11:00 PDT (clocks went forward on the 8th): the 8th's window is still open.
NOW = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)


def test_each_day_has_its_status() -> None:
    statuses = day_statuses(
        DIARY, days=DAYS, first_day=FIRST, last_day=date(2026, 3, 30), timezone=LA,
        entries=ENTRIES, now=NOW,
    )  # fmt: skip
    assert [statuses[day] for day in DAYS] == [
        DayStatus.NOT_SCHEDULED,  # 28 Feb: before her day 1
        DayStatus.ON_TIME,
        DayStatus.LATE,
        DayStatus.MISSED,
        DayStatus.MISSED,
        DayStatus.ON_TIME,
        DayStatus.MISSED,
        DayStatus.MISSED,
        DayStatus.OPEN,  # 8 March: open until 12:00 PDT on the 9th (19:00Z)
        DayStatus.NOT_YET,  # 9 March: opens at 18:00 PDT
    ]


def test_an_hour_later_the_open_day_is_missed() -> None:
    later = day_statuses(
        DIARY, days=[date(2026, 3, 8)], first_day=FIRST, last_day=date(2026, 3, 30),
        timezone=LA, entries=ENTRIES, now=NOW + timedelta(hours=1, minutes=1),
    )  # fmt: skip
    assert later == {date(2026, 3, 8): DayStatus.MISSED}


def test_a_withdrawal_ends_her_scheduled_days() -> None:
    statuses = day_statuses(
        DIARY, days=DAYS, first_day=FIRST, last_day=date(2026, 3, 4), timezone=LA,
        entries=ENTRIES, now=NOW,
    )  # fmt: skip
    assert [statuses[d] for d in DAYS[5:]] == [DayStatus.NOT_SCHEDULED] * 5


@pytest.mark.parametrize(
    ("last_day", "expected", "band"),
    [
        (date(2026, 3, 30), (7, 2, 1, 4), "weak"),  # 1-7 due; 8 still open
        (date(2026, 3, 2), (2, 1, 1, 0), "weak"),
    ],
)
def test_compliance_counts_the_days_due(last_day, expected, band) -> None:
    result = compliance_of(
        DIARY, first_day=FIRST, last_day=last_day, timezone=LA, entries=ENTRIES, now=NOW
    )
    assert (result.due, result.on_time, result.late, result.missed) == expected
    assert result.rate == pytest.approx(expected[1] / expected[0]) and result.band == band


def test_bands_follow_the_adherence_literature() -> None:
    entries = {FIRST + timedelta(days=k): True for k in range(4)}
    strong = compliance_of(
        DIARY, first_day=FIRST, last_day=FIRST + timedelta(days=4), timezone=LA,
        entries=entries, now=NOW,
    )  # fmt: skip
    assert (strong.rate, strong.band) == (0.8, "strong")
    before = compliance_of(
        DIARY, first_day=date(2026, 4, 1), last_day=date(2026, 5, 1), timezone=LA,
        entries={}, now=NOW,
    )  # fmt: skip
    assert (before.due, before.rate, before.band) == (0, None, "")
