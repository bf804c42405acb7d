"""True values of the estimands, against a hand computation from the simulator's model."""

import math

import numpy as np
import pytest

from ldntrial.protocol.loader import load_protocol
from ldntrial.simulate.scenarios import SCENARIOS
from ldntrial.validation.estimands import true_values

# Every woman alike: level 62, placebo response 0.186, LDN effect 0.109 (crossover-2013).
ALIKE = {
    "baseline_sd": 0.0,
    "placebo_sd": 0.0,
    "ldn_effect_sd": 0.0,
    "esr_slope": 0.0,
}


def _build_up(on: np.ndarray, onset_days: float) -> np.ndarray:
    """s_t = s_{t-1} + (on_t - s_{t-1})(1 - exp(-1/onset)): the simulator's stated model."""
    rate, level, curve = 1 - math.exp(-1 / onset_days), 0.0, []
    for target in on:
        level += (target - level) * rate
        curve.append(level)
    return np.array(curve)


def _by_hand(ldn_days: range, placebo_days: range, total: int, windows, scenario):
    """Expected pain per study day (index 0 = day 1) for one sequence of crossover-2013."""
    capsules, ldn = np.zeros(total), np.zeros(total)
    for day in [*ldn_days, *placebo_days]:
        capsules[day - 1] = 1
    for day in ldn_days:
        ldn[day - 1] = 1
    improvement = scenario.placebo_response * _build_up(
        capsules, scenario.placebo_onset_days
    ) + scenario.ldn_effect * _build_up(ldn, scenario.ldn_onset_days)
    pain = 62.0 * (1 - improvement)

    def mean(days):
        return pain[np.array(days) - 1].mean()

    (ldn_window, placebo_window), (ldn_end, placebo_end) = windows
    daily = mean(ldn_window) - mean(placebo_window)
    endpoint = 100 * (62 - mean(ldn_end)) / 62 - 100 * (62 - mean(placebo_end)) / 62
    return daily, endpoint


def test_crossover_truths_match_a_hand_computation():
    scenario = SCENARIOS["stanford"].with_overrides(ALIKE | {"baseline_mean": 62.0})
    protocol = load_protocol("crossover-2013")
    truth = true_values(protocol, scenario, ["pain"], people=4000)["pain"]
    # ldn-first: LDN days 15-98, placebo 99-126; placebo-first: placebo 15-42, LDN 43-126.
    # The daily model compares each condition's final 14 days, the end point its final 3.
    ldn_first = _by_hand(
        range(15, 99),
        range(99, 127),
        154,
        ((range(85, 99), range(113, 127)), (range(96, 99), range(124, 127))),
        scenario,
    )
    placebo_first = _by_hand(
        range(43, 127),
        range(15, 43),
        154,
        ((range(113, 127), range(29, 43)), (range(124, 127), range(40, 43))),
        scenario,
    )
    assert truth["daily"].value == pytest.approx((ldn_first[0] + placebo_first[0]) / 2, abs=0.02)
    assert truth["endpoint"].value == pytest.approx(
        (ldn_first[1] + placebo_first[1]) / 2, abs=0.03
    )
    # LDN's fading into the following placebo weeks makes the ldn-first contrast smaller.
    assert abs(ldn_first[0]) < abs(placebo_first[0])
    assert truth["daily"].standard_error < 0.01


def test_the_null_truth_of_a_fixed_order_is_not_zero():
    """pilot-2009 gives placebo first: its placebo response is still building when the
    placebo week is measured, so even a useless LDN 'beats' it. The truth says so."""
    truth = true_values(load_protocol("pilot-2009"), "null", ["symptoms"], people=4000)
    assert truth["symptoms"]["endpoint"].value > 3.0
    assert truth["symptoms"]["daily"].value < -1.0


def test_a_parallel_null_truth_is_zero():
    truth = true_values(load_protocol("parallel-2024"), "null", ["pain"], people=2000)
    assert truth["pain"]["endpoint"].value == pytest.approx(0.0, abs=1e-9)
    assert truth["pain"]["daily"].value == pytest.approx(0.0, abs=1e-9)
