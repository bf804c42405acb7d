"""The stanford scenario reproduces the published group figures; null gives no difference.

A single large simulated trial stands for the average over many small ones:
with about 6,000 participants the Monte-Carlo standard error of a mean %
improvement is about 0.35 points, so a tolerance of 1.2 points is over 3 SE.
"""

from __future__ import annotations

import pytest

from ldntrial.simulate import simulate_trial
from ldntrial.stats import condition_endpoints, summarise_endpoints

N = 6000
TOLERANCE = 1.2


def _summary(protocol_id: str, scenario: str, seed: int):
    trial = simulate_trial(protocol_id, n=N, seed=seed, scenario=scenario)
    return summarise_endpoints(condition_endpoints(trial)).set_index("condition")


def test_crossover_2013_gives_28_8_vs_18_0_percent_pain_reduction() -> None:
    # Younger et al. 2013: 28.8 % (LDN) vs 18.0 % (placebo), final 3 days of each condition.
    summary = _summary("crossover-2013", "stanford", seed=101)
    assert summary.loc["ldn", "mean_improvement_percent"] == pytest.approx(28.8, abs=TOLERANCE)
    assert summary.loc["placebo", "mean_improvement_percent"] == pytest.approx(18.0, abs=TOLERANCE)


def test_pilot_2009_gives_32_5_vs_2_3_percent_with_6_in_10_responders() -> None:
    # Younger & Mackey 2009: 32.5 % (LDN) vs 2.3 % (placebo); 6 of 10 responded (seed 000).
    summary = _summary("pilot-2009", "stanford", seed=102)
    assert summary.loc["ldn", "mean_improvement_percent"] == pytest.approx(32.5, abs=TOLERANCE)
    assert summary.loc["placebo", "mean_improvement_percent"] == pytest.approx(2.3, abs=TOLERANCE)
    assert summary.loc["ldn", "share_improving_30"] == pytest.approx(0.6, abs=0.05)


@pytest.mark.parametrize("protocol_id", ["crossover-2013", "parallel-2024"])
def test_null_gives_no_difference_between_ldn_and_placebo(protocol_id: str) -> None:
    summary = _summary(protocol_id, "null", seed=103)
    difference = (
        summary.loc["ldn", "mean_improvement_percent"]
        - summary.loc["placebo", "mean_improvement_percent"]
    )
    assert abs(difference) < 2 * TOLERANCE  # two independent means in the parallel design
