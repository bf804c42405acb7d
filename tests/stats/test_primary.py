"""The end-point analysis: hand formulas, another implementation, and the published figures."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from ldntrial.simulate import simulate_trial
from ldntrial.stats import analyse_endpoint, condition_endpoints


def test_paired_difference_is_the_hand_computed_paired_t(small_trial):
    result = analyse_endpoint(small_trial)
    wide = condition_endpoints(small_trial).pivot(
        index="participant_id", columns="condition", values="improvement_percent"
    )
    pairs = wide[["ldn", "placebo"]].dropna()
    d = (pairs["ldn"] - pairs["placebo"]).to_numpy()
    n = len(d)
    mean, se = d.mean(), d.std(ddof=1) / np.sqrt(n)
    row = result.term("ldn - placebo")
    assert row["estimate"] == pytest.approx(mean)
    assert row["std_error"] == pytest.approx(se)
    assert row["ci_lower"] == pytest.approx(mean - stats.t.ppf(0.975, n - 1) * se)
    assert row["p_value"] == pytest.approx(stats.ttest_rel(pairs["ldn"], pairs["placebo"]).pvalue)
    assert row["wilcoxon_p"] == pytest.approx(stats.wilcoxon(d).pvalue)
    assert result.n == n
    assert result.term("ldn % improvement")["estimate"] == pytest.approx(wide["ldn"].mean())


@pytest.mark.parametrize(
    ("protocol", "ldn", "placebo"),
    [("crossover-2013", 28.8, 18.0), ("pilot-2009", 32.5, 2.3)],
)
def test_stanford_scenario_reproduces_the_published_group_means(protocol, ldn, placebo):
    # Published: studies.md §0 #1-2 and #10. n = 6000 gives a Monte-Carlo SE near 0.35 points.
    result = analyse_endpoint(simulate_trial(protocol, n=6000, seed=20))
    assert result.term("ldn % improvement")["estimate"] == pytest.approx(ldn, abs=1.2)
    assert result.term("placebo % improvement")["estimate"] == pytest.approx(placebo, abs=1.2)


def test_null_scenario_gives_no_difference():
    result = analyse_endpoint(simulate_trial("crossover-2013", n=4000, seed=21, scenario="null"))
    row = result.term("ldn - placebo")
    assert abs(row["estimate"]) < 1.0
    assert row["ci_lower"] < 0 < row["ci_upper"] or abs(row["estimate"]) < 0.5


def test_parallel_ancova_matches_statsmodels_formula_and_recovers_the_null():
    trial = simulate_trial("parallel-2024", n=600, seed=4, scenario="null")
    result = analyse_endpoint(trial)
    data = condition_endpoints(trial).dropna(subset=["baseline", "endpoint"])
    data = data.assign(change=data["endpoint"] - data["baseline"])
    reference = smf.ols("change ~ C(condition, Treatment('placebo')) + baseline", data).fit()
    row = result.term("condition[ldn]")
    name = "C(condition, Treatment('placebo'))[T.ldn]"
    assert row["estimate"] == pytest.approx(reference.params[name])
    assert row["std_error"] == pytest.approx(reference.bse[name])
    assert row["ci_lower"] < 0 < row["ci_upper"]


def test_fixed_order_warns_that_time_and_drug_are_confounded():
    result = analyse_endpoint(simulate_trial("pilot-2009", n=10, seed=1))
    assert any("fixed order" in w for w in result.warnings)


def test_single_arm_is_against_baseline_and_says_so():
    result = analyse_endpoint(simulate_trial("cytokine-2017", n=8, seed=1))
    assert list(result.estimates["term"]) == ["% improvement"]
    assert any("not evidence that LDN works" in w for w in result.warnings)


def test_the_paired_difference_ci_covers_the_true_mean_in_95_percent_of_trials():
    # Truth: the mean paired difference of a 10,000-woman trial (SE about 0.23 points,
    # small against the 5-point SE of one 20-woman trial).
    truth = analyse_endpoint(
        simulate_trial("crossover-2013", n=10_000, seed=30, tables=("diary",))
    ).term("ldn - placebo")["estimate"]
    covered = []
    for seed in range(300):
        trial = simulate_trial("crossover-2013", n=20, seed=1000 + seed, tables=("diary",))
        row = analyse_endpoint(trial).term("ldn - placebo")
        covered.append(row["ci_lower"] <= truth <= row["ci_upper"])
    # 300 trials: binomial SE of a 95 % rate is 1.3 points.
    assert 0.91 <= np.mean(covered) <= 0.985


def test_wilcoxon_p_is_the_exact_test_without_ties_as_in_r():
    import itertools

    from ldntrial.stats.primary import wilcoxon_p

    values = np.array([1.5, -2.0, 3.0, 4.2, -0.5, 6.0, 7.1, 2.2, 0.0])  # the zero is dropped
    nonzero = values[values != 0]
    ranks = stats.rankdata(np.abs(nonzero))
    observed = ranks[nonzero > 0].sum()
    centre = ranks.sum() / 2
    # Every sign pattern equally likely under the null: the exact two-sided p by counting.
    patterns = itertools.product([0, 1], repeat=8)
    sums = [sum(r for r, s in zip(ranks, signs, strict=True) if s) for signs in patterns]
    exact = np.mean([abs(v - centre) >= abs(observed - centre) for v in sums])
    assert wilcoxon_p(values) == pytest.approx(exact, rel=1e-12)


def test_wilcoxon_p_with_ties_is_the_corrected_normal_approximation_as_in_r():
    from ldntrial.stats.primary import wilcoxon_p

    values = np.array([2.0, 2.0, -1.0, 3.0, 3.0, 3.0, -4.0, 5.0, 6.0, 6.0])
    ranks = stats.rankdata(np.abs(values))
    n = len(values)
    v = ranks[values > 0].sum()
    _, counts = np.unique(np.abs(values), return_counts=True)
    sigma = np.sqrt(n * (n + 1) * (2 * n + 1) / 24 - np.sum(counts**3 - counts) / 48)
    z = (abs(v - n * (n + 1) / 4) - 0.5) / sigma
    assert wilcoxon_p(values) == pytest.approx(2 * stats.norm.sf(z), rel=1e-12)
