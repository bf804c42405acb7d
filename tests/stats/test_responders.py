"""Responder rates and their tests, against hand computations."""

from __future__ import annotations

import pytest
from scipy import stats

from ldntrial.stats import classify_responders
from ldntrial.stats.responders import exact_mcnemar, rate_with_ci


def test_exact_mcnemar_is_the_binomial_test_of_discordant_pairs():
    # 9 responded on LDN only, 2 on placebo only: 2 * P(X <= 2 | n = 11, p = 1/2).
    hand = 2 * sum(stats.binom.pmf(k, 11, 0.5) for k in range(3))
    assert exact_mcnemar(9, 2) == pytest.approx(hand)
    assert exact_mcnemar(0, 0) == 1.0


def test_clopper_pearson_interval_for_6_of_10():
    row = rate_with_ci(6, 10, "x")
    # Clopper-Pearson 95 % for 6/10: beta quantiles 0.2624 and 0.8784.
    assert row["estimate"] == 0.6
    assert row["ci_lower"] == pytest.approx(stats.beta.ppf(0.025, 6, 5))
    assert row["ci_upper"] == pytest.approx(stats.beta.ppf(0.975, 7, 4))


def test_rates_follow_the_per_participant_flags(small_trial):
    result = classify_responders(small_trial)
    flags = result.tables["participants"]
    on_ldn = flags[flags["condition"] == "ldn"]["pain30"].dropna().astype(bool)
    assert result.term("pain30 [ldn]")["estimate"] == pytest.approx(on_ldn.mean())
    wide = flags.pivot(index="participant_id", columns="condition", values="pain30").dropna()
    ldn_only = int((wide["ldn"].astype(bool) & ~wide["placebo"].astype(bool)).sum())
    placebo_only = int((~wide["ldn"].astype(bool) & wide["placebo"].astype(bool)).sum())
    comparison = result.term("pain30 [ldn - placebo]")
    assert comparison["p_value"] == pytest.approx(exact_mcnemar(ldn_only, placebo_only))
    assert comparison["discordant_treatment_only"] == ldn_only


def test_composite_needs_pain_and_fatigue_or_sleep(small_trial):
    flags = classify_responders(small_trial).tables["participants"]
    assert not (flags["composite"].eq(True) & flags["pain30"].eq(False)).any()
    assert flags["composite"].eq(True).sum() <= flags["pain30"].eq(True).sum()


def test_null_scenario_gives_few_significant_ldn_responders():
    from ldntrial.simulate import simulate_trial

    trial = simulate_trial("crossover-2013", n=300, seed=5, scenario="null")
    rate = classify_responders(trial).term("significant_pain [ldn better than placebo]")
    # Under no effect about 2.5 % would be significantly better by chance (one tail of 5 %);
    # residual autocorrelation beyond the HAC lags can inflate that a little.
    assert rate["estimate"] < 0.08
