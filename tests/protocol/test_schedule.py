"""Participant calendars: dates, phases, doses, visit windows, draws and kits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from ldntrial.errors import ScheduleError
from ldntrial.protocol.loader import builtin_protocol_ids, load_protocol
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.schedule import (
    build_schedule,
    guess_visits,
    local_instant,
    plan_sequence,
    shared_periods,
    site_visit_plan,
    visit_plan,
)

LA = ZoneInfo("America/Los_Angeles")


def test_the_crossover_calendar_by_phase(crossover_protocol: Protocol) -> None:
    schedule = build_schedule(
        crossover_protocol,
        sequence="placebo-first",
        enrolled_on=date(2026, 1, 20),
        timezone="America/Los_Angeles",
    )
    days = schedule.days
    assert len(days) == 154
    spans = days.groupby("phase", sort=False)["study_day"].agg(["min", "max"]).reset_index()
    assert spans.values.tolist() == [
        ["baseline", 1, 14],
        ["placebo", 15, 42],
        ["ldn", 43, 126],
        ["follow_up", 127, 154],
    ]
    assert days.loc[days["phase"] == "ldn", "dose_mg"].unique().tolist() == [4.5]
    assert days.loc[days["phase"] == "placebo", "dose_mg"].isna().all()
    periods = days.groupby("phase", sort=False)["period"].unique().map(list).to_dict()
    assert periods == {"baseline": [0], "placebo": [1], "ldn": [2], "follow_up": [0]}


def test_dates_run_across_month_and_year_ends(crossover_protocol: Protocol) -> None:
    schedule = build_schedule(
        crossover_protocol, sequence="ldn-first", enrolled_on=date(2026, 12, 20), timezone="UTC"
    )
    assert schedule.on(date(2027, 1, 2))["study_day"] == 14
    assert schedule.on(date(2027, 1, 3))["phase"] == "ldn"
    assert schedule.on(date(2027, 2, 28))["study_day"] == 71
    assert schedule.on(date(2027, 3, 1))["study_day"] == 72  # 2027 is not a leap year
    assert schedule.days["date"].iloc[-1] == pd.Timestamp(date(2026, 12, 20) + timedelta(days=153))
    with pytest.raises(KeyError):
        schedule.on(date(2026, 12, 19))


def test_diary_windows_follow_the_local_clock_across_daylight_saving(
    crossover_protocol: Protocol,
) -> None:
    # Clocks in Los Angeles go forward on 8 March 2026 and back on 1 November 2026.
    schedule = build_schedule(
        crossover_protocol,
        sequence="ldn-first",
        enrolled_on=date(2026, 3, 1),
        timezone="America/Los_Angeles",
    )
    before = schedule.on(date(2026, 3, 7))
    assert before["diary_opens_at"].isoformat() == "2026-03-07T18:00:00-08:00"
    assert before["diary_closes_at"].isoformat() == "2026-03-08T12:00:00-07:00"
    assert before["diary_closes_at"] - before["diary_opens_at"] == timedelta(hours=17)
    after = schedule.on(date(2026, 3, 8))
    assert after["diary_opens_at"].isoformat() == "2026-03-08T18:00:00-07:00"
    assert after["diary_closes_at"] - after["diary_opens_at"] == timedelta(hours=18)

    autumn = build_schedule(
        crossover_protocol,
        sequence="ldn-first",
        enrolled_on=date(2026, 10, 20),
        timezone="America/Los_Angeles",
    )
    day = autumn.on(date(2026, 10, 31))
    assert day["diary_closes_at"] - day["diary_opens_at"] == timedelta(hours=19)


def test_a_wall_time_skipped_by_daylight_saving_moves_forward() -> None:
    skipped = local_instant(date(2026, 3, 8), time(2, 30), LA)
    assert skipped.isoformat() == "2026-03-08T03:30:00-07:00"
    repeated = local_instant(date(2026, 11, 1), time(1, 30), LA)
    assert repeated.astimezone(UTC) == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)  # the first 01:30


def test_visits_every_two_weeks_with_windows(crossover_protocol: Protocol) -> None:
    schedule = build_schedule(
        crossover_protocol, sequence="ldn-first", enrolled_on=date(2026, 2, 2), timezone="UTC"
    )
    visits = schedule.visits
    # 12 laboratory sessions (NCT00568555): days 1, 15, ..., 155.
    assert visits["study_day"].tolist() == list(range(1, 156, 14))
    second = visits.iloc[1]
    assert (second["earliest"], second["date"], second["latest"]) == (
        pd.Timestamp("2026-02-13"),
        pd.Timestamp("2026-02-16"),
        pd.Timestamp("2026-02-19"),
    )
    assert visits.iloc[0]["earliest"] == visits.iloc[0]["date"]  # nothing before day 1
    guesses = visits[visits["measures"].map(lambda m: "blinding_guess" in m)]
    assert guesses["study_day"].tolist() == [99, 127]  # after the LDN and the placebo phases
    tolerability = visits[visits["measures"].map(lambda m: "tolerability" in m)]
    assert tolerability["study_day"].tolist() == [29, 43, 57, 71, 85, 99, 113, 127]


def test_kits_cover_every_treated_day_once(crossover_protocol: Protocol) -> None:
    schedule = build_schedule(
        crossover_protocol, sequence="ldn-first", enrolled_on=date(2026, 2, 2), timezone="UTC"
    )
    kits = schedule.kits
    covered = np.concatenate([np.arange(k.first_day, k.last_day + 1) for k in kits.itertuples()])
    assert sorted(covered.tolist()) == list(range(15, 127))
    assert kits["condition"].tolist() == ["ldn"] * 6 + ["placebo"] * 2
    assert kits["capsules"].tolist() == [17] * 8  # 14 days + 3 spare
    dispensing_days = schedule.visits.set_index("visit").loc[kits["dispense_visit"], "study_day"]
    assert (dispensing_days.to_numpy() <= kits["first_day"].to_numpy()).all()


def test_titration_doses_and_their_bottles() -> None:
    protocol = load_protocol("parallel-2024")
    schedule = build_schedule(
        protocol, sequence="ldn", enrolled_on=date(2026, 1, 5), timezone="Europe/Copenhagen"
    )
    doses = schedule.days.set_index("study_day")["dose_mg"]
    # Treatment starts on day 8: 1.5 mg, then +1.5 mg a week up to 6 mg.
    assert [doses[d] for d in (8, 14, 15, 22, 29, 91)] == [1.5, 1.5, 3.0, 4.5, 6.0, 6.0]
    assert schedule.kits["dose_mg"].tolist()[:4] == [1.5, 3.0, 4.5, 6.0]
    placebo = build_schedule(
        protocol, sequence="placebo", enrolled_on=date(2026, 1, 5), timezone="UTC"
    )
    assert len(placebo.kits) == len(schedule.kits)  # the same bottles, so nothing shows


def test_cytokine_draws_twice_a_week() -> None:
    protocol = load_protocol("cytokine-2017")
    schedule = build_schedule(
        protocol, sequence="single-arm", enrolled_on=date(2026, 1, 5), timezone="UTC"
    )
    draws = schedule.labs[schedule.labs["panel"] == "cytokines"]
    assert len(draws) == 20  # 10 weeks x 2
    assert draws["study_day"].tolist()[:4] == [1, 5, 8, 12]
    assert schedule.labs.loc[schedule.labs["panel"] == "esr", "study_day"].tolist() == [1]


def test_nof1_blocks_follow_the_allocated_order() -> None:
    protocol = load_protocol("nof1")
    plan = plan_sequence(protocol, "BA-AB-BA")
    phases = [span[0] for span in plan.phase_spans()]
    assert phases == ["baseline", "placebo", "ldn", "ldn", "placebo", "placebo", "ldn"]
    assert [span[3] for span in plan.phase_spans()] == [0, 1, 2, 3, 4, 5, 6]
    # Two blocks of the same condition in a row build one exposure run of 56 days.
    assert plan.exposure_day.max() == 56


def test_an_up_and_down_protocol_needs_the_assigned_dose() -> None:
    protocol = load_protocol("dose-finding-2020")
    with pytest.raises(ScheduleError, match="pass dose_mg"):
        plan_sequence(protocol, "single-dose")
    plan = plan_sequence(protocol, "single-dose", dose_mg=2.25)
    assert np.nanmax(plan.dose_mg) == 2.25


def test_unknown_sequence_and_time_zone_are_named(crossover_protocol: Protocol) -> None:
    with pytest.raises(ScheduleError, match=r"no sequence 'abba'.*ldn-first, placebo-first"):
        build_schedule(
            crossover_protocol, sequence="abba", enrolled_on=date(2026, 1, 1), timezone="UTC"
        )
    with pytest.raises(ScheduleError, match="unknown time zone 'Mars/Olympus'"):
        build_schedule(
            crossover_protocol,
            sequence="ldn-first",
            enrolled_on=date(2026, 1, 1),
            timezone="Mars/Olympus",
        )


def test_the_site_visit_plan_is_the_same_whatever_the_sequence_and_asks_every_due_measure():

    protocol = load_protocol("crossover-2013")
    own = {
        s.name: visit_plan(protocol, plan_sequence(protocol, s.name))
        for s in protocol.all_sequences
    }
    guess_at = {
        name: [v["visit"] for v in visits if "blinding_guess" in v["measures"]]
        for name, visits in own.items()
    }
    # Each sequence's own plan would tell the site which arm came first ...
    assert guess_at == {"ldn-first": [8, 10], "placebo-first": [4, 10]}
    # ... so the site's plan asks the guess wherever any sequence needs it.
    site = site_visit_plan(protocol)
    assert [v["visit"] for v in site if "blinding_guess" in v["measures"]] == [4, 8, 10]
    for visits in own.values():
        for mine, shown in zip(visits, site, strict=True):
            assert mine["study_day"] == shown["study_day"]
            assert set(mine["measures"]) <= set(shown["measures"])
            assert set(mine["dispenses"]) <= set(shown["dispenses"])


@pytest.mark.parametrize("protocol_id", builtin_protocol_ids())
def test_every_builtin_protocol_has_a_blind_site_calendar(protocol_id):

    visits = site_visit_plan(load_protocol(protocol_id))
    days = [v["study_day"] for v in visits]
    assert days == sorted(days) and len(set(days)) == len(days)


def test_an_nof1_sequence_asks_a_guess_after_every_block_not_once_per_phase_name() -> None:
    protocol = load_protocol("nof1")
    plan = plan_sequence(protocol, "AB-BA-BA")
    # Blocks of 28 days after a 14-day baseline; each guess at the next fortnightly visit.
    assert guess_visits(plan) == {1: 43, 2: 71, 3: 99, 4: 127, 5: 155, 6: 183}
    asked = [
        v["study_day"] for v in visit_plan(protocol, plan) if "blinding_guess" in v["measures"]
    ]
    assert asked == [43, 71, 99, 127, 155, 183]


def test_a_participant_is_shown_periods_only_when_every_sequence_has_the_same() -> None:
    # 12 weeks of LDN first or 4 of placebo first: a period's length would tell her the arm.
    assert shared_periods(load_protocol("crossover-2013")) is None
    assert shared_periods(load_protocol("nof1")) == [
        ("Baseline", 1, 14),
        ("period 1", 15, 42),
        ("period 2", 43, 70),
        ("period 3", 71, 98),
        ("period 4", 99, 126),
        ("period 5", 127, 154),
        ("period 6", 155, 182),
    ]
