"""End points by hand on a tiny made-up trial, and from diary arrays as from the table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ldntrial.data import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.protocol.loader import builtin_protocol_ids, load_protocol
from ldntrial.protocol.schedule import plan_sequence
from ldntrial.protocol.windows import percent_improvement
from ldntrial.simulate import simulate_diaries, simulate_trial
from ldntrial.stats import condition_endpoints, summarise_endpoints
from ldntrial.stats.endpoints import endpoint_arrays


def _diary(
    pid: str, sequence: str, pain_by_day: dict[int, float], sleep: float = 50.0
) -> pd.DataFrame:
    protocol = load_protocol("crossover-2013")
    plan = plan_sequence(protocol, sequence)
    rows = []
    for day, pain in pain_by_day.items():
        for item, value in (("pain", pain), ("sleep_quality", sleep)):
            rows.append(
                {
                    "participant_id": pid,
                    "date": pd.Timestamp("2026-01-01") + pd.Timedelta(days=day - 1),
                    "study_day": day,
                    "phase": plan.phase[day - 1],
                    "condition": plan.condition[day - 1],
                    "period": plan.period[day - 1],
                    "item": item,
                    "value": value,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def tiny_trial() -> TrialData:
    # P1 (LDN first): baseline 60 every day; LDN days 96-98 at 30, 33, 36 (mean 33);
    # placebo days 124-126 at 54 (mean 54). One baseline day missing changes nothing.
    p1 = {day: 60.0 for day in range(1, 15) if day != 7}
    p1 |= {96: 30.0, 97: 33.0, 98: 36.0, 50: 10.0, 124: 54.0, 125: 54.0, 126: 54.0}
    # P2 (placebo first): baseline 80; placebo end (days 40-42) 72; LDN end (124-126) 40, 41 only.
    p2 = {day: 80.0 for day in range(1, 15)} | {40: 72.0, 41: 72.0, 42: 72.0, 124: 40.0, 125: 41.0}
    participants = pd.DataFrame(
        {
            "participant_id": ["P1", "P2"],
            "site": "s",
            "sequence": ["ldn-first", "placebo-first"],
            "age": [40, 50],
            "sex": "female",
            "esr_baseline": [12.0, 30.0],
            "enrolled_on": pd.Timestamp("2026-01-01"),
            "status": "completed",
            "withdrawn_on": pd.NaT,
            "dose_mg": np.nan,
        }
    )
    diary = pd.concat([_diary("P1", "ldn-first", p1), _diary("P2", "placebo-first", p2)])
    return TrialData.from_tables(
        load_protocol("crossover-2013"), participants=participants, diary=diary
    )


def test_baseline_and_final_three_days_by_hand(tiny_trial: TrialData) -> None:
    table = condition_endpoints(tiny_trial).set_index(["participant_id", "condition"])
    # P1: (60 - 33) / 60 = 45 %; placebo (60 - 54) / 60 = 10 %. Day 50 is outside every window.
    assert table.loc[("P1", "ldn"), "improvement_percent"] == pytest.approx(45.0)
    assert table.loc[("P1", "placebo"), "improvement_percent"] == pytest.approx(10.0)
    assert table.loc[("P1", "ldn"), "baseline_days"] == 13
    # P2: (80 - 40.5) / 80 = 49.375 % on two of the three days; placebo (80 - 72) / 80 = 10 %.
    assert table.loc[("P2", "ldn"), "improvement_percent"] == pytest.approx(49.375)
    assert table.loc[("P2", "ldn"), "endpoint_days"] == 2
    assert table.loc[("P2", "placebo"), "improvement_percent"] == pytest.approx(10.0)
    summary = summarise_endpoints(condition_endpoints(tiny_trial)).set_index("condition")
    assert summary.loc["ldn", "mean_improvement_percent"] == pytest.approx((45.0 + 49.375) / 2)
    assert summary.loc["ldn", "share_improving_30"] == 1.0
    assert summary.loc["placebo", "share_improving_30"] == 0.0


def test_an_item_where_higher_is_better_improves_upwards(tiny_trial: TrialData) -> None:
    table = condition_endpoints(tiny_trial, item="sleep_quality")
    assert table["improvement_percent"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert percent_improvement(40.0, 50.0, higher_is_better=True) == pytest.approx(25.0)
    assert percent_improvement(40.0, 50.0, higher_is_better=False) == pytest.approx(-25.0)
    assert np.isnan(percent_improvement(0.0, 10.0, higher_is_better=False))


def test_end_points_need_unblinded_data(tiny_trial: TrialData) -> None:
    with pytest.raises(AnalysisError, match="need unblinded data"):
        condition_endpoints(tiny_trial.blinded_view())
    with pytest.raises(AnalysisError, match="no diary item 'itch'"):
        condition_endpoints(tiny_trial, item="itch")


@pytest.mark.parametrize(
    "protocol_id", sorted(set(builtin_protocol_ids()) - {"dose-finding-2020"})
)
def test_end_points_from_diary_arrays_equal_those_from_the_diary_table(protocol_id: str) -> None:
    # Whole-number ratings sum exactly in any order: the two must agree to the last bit.
    trial = simulate_trial(protocol_id, n=19, seed=4, tables=("diary",))
    table = condition_endpoints(trial)
    arrays = endpoint_arrays(simulate_diaries(protocol_id, n=19, seed=4))
    person = {pid: k for k, pid in enumerate(trial.participants["participant_id"])}
    assert arrays.visited.sum() == len(table)
    for row in table.itertuples(index=False):
        k, j = person[row.participant_id], arrays.conditions.index(row.condition)
        assert arrays.visited[k, j]
        for name, value in (
            ("baseline", arrays.baseline[k]),
            ("endpoint", arrays.endpoint[k, j]),
            ("improvement_percent", arrays.improvement[k, j]),
        ):
            expected = getattr(row, name)
            assert value == expected or (np.isnan(value) and np.isnan(expected)), name
    assert np.isnan(arrays.improvement[~arrays.visited]).all()
