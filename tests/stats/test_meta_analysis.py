"""The random-effects meta-analysis against R's metafor; its coverage over simulated syntheses."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from ldntrial.errors import AnalysisError
from ldntrial.stats.meta_analysis import leave_one_out, random_effects, reml_tau2

REFERENCE = Path(__file__).parent / "reference"
FIELDS = [
    "estimate",
    "std_error",
    "ci_lower",
    "ci_upper",
    "p_value",
    "tau2",
    "i2_percent",
    "q",
    "q_p_value",
    "prediction_lower",
    "prediction_upper",
]


def _inputs() -> dict[str, pd.DataFrame]:
    """The data metafor was given: meta_input.csv by dataset, and metafor's dat.bcg."""
    given = pd.read_csv(REFERENCE / "meta_input.csv")
    sets = {name: rows.reset_index(drop=True) for name, rows in given.groupby("dataset")}
    sets["bcg"] = pd.read_csv(REFERENCE / "bcg_input.csv")
    return sets


@pytest.fixture(scope="module")
def metafor() -> pd.DataFrame:
    # R: rma(yi, sei = sei, method = "REML", test = "knha"); meta_reference.R
    return pd.read_csv(
        REFERENCE / "metafor_reml_knha.csv", keep_default_na=False, na_values=["NA"]
    )


def _as_row(pooled) -> list[float]:
    return [np.nan if getattr(pooled, f) is None else getattr(pooled, f) for f in FIELDS]


@pytest.mark.parametrize("dataset", ["ldn", "bcg", "homogeneous", "two"])
def test_agrees_with_metafor_reml_knha_to_1e_9(metafor, dataset):
    data = _inputs()[dataset]
    expected = metafor[(metafor["dataset"] == dataset) & (metafor["left_out"] == "")].iloc[0]
    pooled = random_effects(data["yi"], data["sei"])
    assert pooled.k == expected["k"]
    assert_allclose(_as_row(pooled), expected[FIELDS].astype(float), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dataset", ["ldn", "bcg", "homogeneous"])
def test_leaving_each_trial_out_agrees_with_metafor(metafor, dataset):
    data = _inputs()[dataset]
    expected = metafor[(metafor["dataset"] == dataset) & (metafor["left_out"] != "")]
    results = leave_one_out(data["yi"], data["sei"])
    assert list(expected["left_out"]) == list(data["label"])
    for pooled, (_, row) in zip(results, expected.iterrows(), strict=True):
        assert_allclose(_as_row(pooled), row[FIELDS].astype(float), rtol=1e-9, atol=1e-12)


def test_bcg_matches_metafor_printed_summary():
    # metafor's documentation prints, for the BCG trials: tau^2 0.3132, estimate -0.7145,
    # se 0.1808, 95 % CI -1.1084 to -0.3206, I^2 92.22 %, Q(12) 152.2330.
    data = _inputs()["bcg"]
    pooled = random_effects(data["yi"], data["sei"])
    assert round(pooled.tau2, 4) == 0.3132
    assert (round(pooled.estimate, 4), round(pooled.std_error, 4)) == (-0.7145, 0.1808)
    assert (round(pooled.ci_lower, 4), round(pooled.ci_upper, 4)) == (-1.1084, -0.3206)
    assert round(pooled.i2_percent, 2) == 92.22 and round(pooled.q, 4) == 152.2330


def test_reml_tau2_is_zero_when_trials_agree_more_than_their_errors_allow():
    assert reml_tau2(np.array([0.1, 0.1, 0.1]), np.array([0.04, 0.09, 0.01])) == 0.0


def test_the_floor_never_narrows_the_interval():
    data = _inputs()["homogeneous"]
    plain = random_effects(data["yi"], data["sei"])
    floored = random_effects(data["yi"], data["sei"], hksj_floor=True)
    # These three agree closely, so plain HKSJ is narrower than the model's own errors;
    # the floor puts the standard error back to 1 / sqrt(sum of weights).
    assert floored.std_error > plain.std_error
    assert floored.std_error == pytest.approx(1 / np.sqrt(np.sum(1 / data["sei"] ** 2)))


@pytest.mark.parametrize(
    ("effects", "errors", "message"),
    [
        ([0.2], [0.1], "at least 2 trials, not 1"),
        ([0.2, 0.3], [0.1, 0.0], "standard error above 0"),
        ([0.2, float("nan")], [0.1, 0.1], "every effect must be a number"),
        ([0.2, 0.3], [0.1], "the same length"),
    ],
)
def test_bad_input_is_named(effects, errors, message):
    with pytest.raises(AnalysisError, match=message):
        random_effects(effects, errors)


@pytest.mark.parametrize(
    ("tau", "prediction_coverage"), [(0.0, (0.95, 0.99)), (0.15, (0.86, 0.92))]
)
def test_coverage_over_simulated_syntheses_of_five_trials(tau, prediction_coverage):
    # 4,000 simulated syntheses of 5 trials with standard errors like the shipped table's.
    # HKSJ covers the true mean about 95 % of the time, with or without a spread between
    # trials (IntHout et al. 2014). The prediction interval covers a new population's true
    # effect as the module docstring says: well at tau = 0, about 89 % at tau = 0.15
    # (Partlett & Riley 2017 found the same shortfall with few trials).
    rng = np.random.default_rng(20261203)
    errors = np.array([0.20, 0.15, 0.21, 0.16, 0.25])
    truth, runs = 0.2, 4000
    covered = predicted = 0
    for _ in range(runs):
        effects = truth + rng.normal(0, tau, 5) + rng.normal(0, errors)
        pooled = random_effects(effects, errors)
        covered += pooled.ci_lower <= truth <= pooled.ci_upper
        new_population = truth + rng.normal(0, tau)
        predicted += pooled.prediction_lower <= new_population <= pooled.prediction_upper
    standard_error = np.sqrt(0.95 * 0.05 / runs)  # 0.34 percentage points
    assert abs(covered / runs - 0.95) < 4 * standard_error
    low, high = prediction_coverage
    assert low <= predicted / runs <= high
