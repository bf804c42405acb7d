"""Power by simulation, against the noncentral t, the null's error rate and known truths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ldntrial.errors import AnalysisError
from ldntrial.planning.power import estimate_power
from ldntrial.simulate import simulate_trial
from ldntrial.stats.primary import analyse_endpoint

NO_DROPOUTS = {"dropout_rate": 0.0}


def test_crossover_power_matches_the_paired_t_tests_power_on_the_true_differences() -> None:
    # Known answer: draw samples of 20 paired differences from a very large trial's
    # differences and count how often the paired t-test rejects in LDN's favour.
    # (The noncentral t gives the same power for normal differences; these have
    # excess kurtosis near 1, which the resampling respects.)
    big = analyse_endpoint(
        simulate_trial("crossover-2013", n=6000, seed=11, overrides=NO_DROPOUTS)
    )
    wide = big.tables["participants"].pivot(
        index="participant_id", columns="condition", values="improvement_percent"
    )
    differences = (wide["ldn"] - wide["placebo"]).dropna().to_numpy()
    n = 20
    samples = differences[np.random.default_rng(0).integers(len(differences), size=(40000, n))]
    t = samples.mean(axis=1) / (samples.std(axis=1, ddof=1) / math.sqrt(n))
    expected = float(np.mean(t > stats.t.ppf(0.975, n - 1)))
    normal_theory = stats.nct.sf(
        stats.t.ppf(0.975, n - 1), n - 1, differences.mean() / differences.std() * math.sqrt(n)
    )
    assert expected == pytest.approx(normal_theory, abs=0.04)

    result = estimate_power(
        "crossover-2013", sizes=[n], sims=400, seed=3, overrides=NO_DROPOUTS, workers=2
    )
    row = result.table.iloc[0]
    monte_carlo_se = math.sqrt(expected * (1 - expected) / 400)
    assert 0.2 < expected < 0.8  # a size where power is informative, not saturated
    assert row["power"] == pytest.approx(expected, abs=3 * monte_carlo_se + 0.01)
    assert row["ci_lower"] <= row["power"] <= row["ci_upper"]
    assert row["mean_estimate"] == pytest.approx(differences.mean(), abs=2.0)


def test_under_the_null_success_happens_at_half_the_two_sided_alpha() -> None:
    result = estimate_power("crossover-2013", sizes=[12], sims=400, seed=5, scenario="null")
    row = result.table.iloc[0]
    # Two-sided 5 % in LDN's favour only: 2.5 % expected; the exact interval must cover it.
    assert row["ci_lower"] <= 0.025 <= row["ci_upper"]
    assert row["power"] < 0.06


def test_parallel_power_grows_with_n_and_counts_lower_pain_as_success() -> None:
    result = estimate_power("parallel-2024", sizes=[10, 80], sims=100, seed=2, workers=1)
    small, large = result.table["power"]
    assert large > small + 0.3
    assert (result.table["mean_estimate"] < 0).all()  # less pain on LDN: a negative change
    assert "ANCOVA" in result.criterion


def test_the_figures_do_not_depend_on_the_number_of_workers() -> None:
    one = estimate_power("crossover-2013", sizes=[8, 12], sims=26, seed=9, workers=1)
    two = estimate_power("crossover-2013", sizes=[8, 12], sims=26, seed=9, workers=2)
    assert one.table.equals(two.table)
    other = estimate_power("crossover-2013", sizes=[8, 12], sims=26, seed=10, workers=1)
    assert not one.table["mean_estimate"].equals(other.table["mean_estimate"])


def test_progress_is_reported_up_to_every_trial() -> None:
    calls: list[tuple[int, int]] = []
    estimate_power(
        "crossover-2013",
        sizes=[6],
        sims=60,
        seed=1,
        workers=1,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[-1] == (60, 60)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_nof1_answers_are_right_when_the_effect_is_large_and_never_helped_under_null() -> None:
    strong = estimate_power(
        "nof1",
        sizes=[3],
        sims=50,
        seed=4,
        overrides={"ldn_effect": 0.5, "ldn_effect_sd": 0.0, "esr_slope": 0.0},
        workers=1,
    )
    row = strong.table.iloc[0]
    assert row["share_truly_meaningful"] > 0.95  # 0.5 x a level near 62: about 31 points
    assert row["p_correct"] > 0.9 and row["wrong"] == 0

    null = estimate_power("nof1", sizes=[1, 4], sims=100, seed=4, scenario="null", workers=1)
    assert (null.table["share_truly_meaningful"] == 0).all()
    # Under the null a wrong answer is a false "likely helped": rare.
    assert (null.table["wrong"] <= 5).all()
    one_pair, four_pairs = null.table.itertuples()
    assert four_pairs.p_cannot_tell < one_pair.p_cannot_tell  # more blocks, more decisive
    assert np.isclose(
        null.table["p_correct"] + null.table["p_cannot_tell"] + null.table["wrong"] / 100, 1
    ).all()


def test_single_arm_power_warns_that_it_is_not_evidence_against_placebo() -> None:
    result = estimate_power("cytokine-2017", sizes=[8], sims=10, seed=1, workers=1)
    assert "one-sample t-test" in result.criterion
    assert any("no placebo comparison" in warning for warning in result.warnings)


def test_dose_finding_power_is_the_precision_of_ed50() -> None:
    """More women allowed, a tighter ED50 (the truth the simulator was calibrated to: 3.88 mg)."""
    result = estimate_power("dose-finding-2020", sizes=[12, 40], sims=50, seed=1, workers=1)
    assert result.rate_column == "estimated" and "precision of ED50" in result.criterion
    few, many = result.table.itertuples()
    assert few.mean_enrolled == 12 and 12 < many.mean_enrolled < 40  # the stopping rule
    assert few.sd_ed50 > many.sd_ed50
    assert abs(many.mean_ed50 - 3.88) < 0.4 and many.estimated > 0.9
    assert 0 < many.median_width < few.median_width


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"sizes": []}, "sizes: give at least one sample size"),
        ({"sizes": [1]}, "sizes: 1 participants is too few; at least 2 are needed"),
        ({"sims": 0}, "sims: must be at least 1, got 0"),
        ({"alpha": 1.5}, "alpha: must be between 0 and 1, got 1.5"),
    ],
)
def test_bad_settings_are_named(settings: dict, message: str) -> None:
    arguments = {"sizes": [10], "sims": 5, "seed": 1} | settings
    with pytest.raises(AnalysisError, match=f"^{message}"):
        estimate_power("crossover-2013", **arguments)


def test_nof1_pairs_beyond_the_protocol_limit_are_refused() -> None:
    with pytest.raises(AnalysisError, match="at most 12 block pairs"):
        estimate_power("nof1", sizes=[13], sims=5, seed=1)
