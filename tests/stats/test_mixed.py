"""The REML engine against R (lme4, nlme), statsmodels, and simulated truth."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from numpy.testing import assert_allclose

from ldntrial.errors import AnalysisError
from ldntrial.stats.mixed import fit_mixed_model

REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def crossover_pain() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "crossover_pain.csv")


def _design(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack(
        [np.ones(len(frame)), frame["treated"].astype(float), (frame["period"] == 2).astype(float)]
    )


def test_matches_lme4_to_1e_5(crossover_pain):
    # R: lmer(value ~ treated + period + (1 | participant_id), REML = TRUE); mixed_reference.R
    terms = pd.read_csv(REFERENCE / "lme4_terms.csv")
    variance = pd.read_csv(REFERENCE / "lme4_variance.csv").iloc[0]
    fit = fit_mixed_model(
        crossover_pain["value"].to_numpy(),
        _design(crossover_pain),
        ["Intercept", "treated", "period2"],
        crossover_pain["participant_id"].to_numpy(),
    )
    assert_allclose(fit.beta, terms["estimate"], rtol=1e-5)
    assert_allclose(np.sqrt(np.diag(fit.covariance)), terms["std_error"], rtol=1e-5)
    assert_allclose([fit.sigma2, fit.tau2], [variance["sigma2"], variance["tau2"]], rtol=1e-5)
    assert fit.reml_criterion == pytest.approx(variance["reml_criterion"], abs=1e-6)


def test_ar1_variant_matches_nlme_corcar1(crossover_pain):
    # R: lme(..., correlation = corCAR1(form = ~ study_day | participant_id)); mixed_reference.R
    terms = pd.read_csv(REFERENCE / "nlme_car1_terms.csv")
    variance = pd.read_csv(REFERENCE / "nlme_car1_variance.csv").iloc[0]
    fit = fit_mixed_model(
        crossover_pain["value"].to_numpy(),
        _design(crossover_pain),
        ["Intercept", "treated", "period2"],
        crossover_pain["participant_id"].to_numpy(),
        days=crossover_pain["study_day"].to_numpy(),
        autocorrelation=True,
    )
    assert_allclose(fit.beta, terms["estimate"], rtol=1e-5)
    assert_allclose(np.sqrt(np.diag(fit.covariance)), terms["std_error"], rtol=1e-5)
    assert fit.rho == pytest.approx(variance["rho"], abs=1e-5)
    assert_allclose([fit.sigma2, fit.tau2], [variance["sigma2"], variance["tau2"]], rtol=1e-4)


def test_agrees_with_statsmodels_on_unbalanced_data():
    rng = np.random.default_rng(3)
    sizes = rng.integers(5, 40, 25)
    group = np.repeat(np.arange(25), sizes)
    x = rng.normal(size=len(group))
    y = 3 + 2 * x + rng.normal(0, 2, 25)[group] + rng.normal(size=len(group))
    frame = pd.DataFrame({"y": y, "x": x, "g": group})
    reference = smf.mixedlm("y ~ x", frame, groups=frame["g"]).fit(reml=True)
    fit = fit_mixed_model(y, np.column_stack([np.ones_like(x), x]), ["Intercept", "x"], group)
    assert_allclose(fit.beta, reference.fe_params, rtol=1e-5)
    assert_allclose(np.sqrt(np.diag(fit.covariance)), reference.bse_fe, rtol=1e-4)
    assert fit.tau2 == pytest.approx(float(reference.cov_re.iloc[0, 0]), rel=1e-3)


def _crossover_with_ar1(rng, *, groups=16, days=56, rho=0.6, effect=-5.0):
    group = np.repeat(np.arange(groups), days)
    day = np.tile(np.arange(1, days + 1), groups)
    period = (day > days // 2).astype(float)
    treated = ((period == 1) ^ (group % 2 == 1)).astype(float)
    noise = np.empty((groups, days))
    noise[:, 0] = rng.normal(size=groups)
    for t in range(1, days):
        noise[:, t] = rho * noise[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=groups)
    y = 50 + rng.normal(0, 10, groups)[group] + effect * treated + 2 * period + 10 * noise.ravel()
    keep = rng.random(len(y)) > 0.1  # about one day in ten missing
    X = np.column_stack([np.ones(len(y)), treated, period])
    return y[keep], X[keep], group[keep], day[keep]


def test_ar1_intervals_cover_the_truth_about_95_percent():
    """200 seeded trials with AR(1) days (rho 0.6): the AR(1) variant's 95 % CIs cover
    the true effect 95 % of the time (binomial SE 1.5 points), the plain model's do not."""
    rng = np.random.default_rng(2026)
    covered = {"ar1": 0, "plain": 0}
    estimates = []
    trials = 200
    for _ in range(trials):
        y, X, group, day = _crossover_with_ar1(rng)
        for variant, ar1 in (("ar1", True), ("plain", False)):
            row = fit_mixed_model(
                y, X, ["i", "condition", "period"], group, days=day, autocorrelation=ar1
            ).table()
            row = row[row["term"] == "condition"].iloc[0]
            covered[variant] += row["ci_lower"] <= -5.0 <= row["ci_upper"]
            if ar1:
                estimates.append(row["estimate"])
    assert 0.91 <= covered["ar1"] / trials <= 0.985
    assert covered["plain"] / trials < 0.85
    assert np.mean(estimates) == pytest.approx(-5.0, abs=0.25)


def test_recovers_rho_and_variances_from_a_large_simulation():
    rng = np.random.default_rng(11)
    y, X, group, day = _crossover_with_ar1(rng, groups=300, days=60, rho=0.5)
    fit = fit_mixed_model(y, X, ["i", "c", "p"], group, days=day, autocorrelation=True)
    assert fit.rho == pytest.approx(0.5, abs=0.03)
    assert fit.sigma2 == pytest.approx(100.0, rel=0.05)
    assert fit.tau2 == pytest.approx(100.0, rel=0.2)
    assert fit.beta[1] == pytest.approx(-5.0, abs=0.6)


def test_between_within_degrees_of_freedom():
    rng = np.random.default_rng(5)
    y, X, group, _ = _crossover_with_ar1(rng, groups=10, days=20)
    fit = fit_mixed_model(y, X, ["Intercept", "c", "p"], group)
    # Intercept is constant within participants: 10 groups - 1 between term.
    assert fit.df[0] == 9
    assert fit.df[1] == len(y) - 10 - 2


def test_without_random_intercept_is_ordinary_least_squares():
    rng = np.random.default_rng(9)
    x = rng.normal(size=50)
    y = 1 + 2 * x + rng.normal(size=50)
    X = np.column_stack([np.ones(50), x])
    fit = fit_mixed_model(y, X, ["i", "x"], np.zeros(50), random_intercept=False)
    beta, rss, *_ = np.linalg.lstsq(X, y, rcond=None)
    assert_allclose(fit.beta, beta, rtol=1e-10)
    assert fit.sigma2 == pytest.approx(rss[0] / 48)
    assert fit.df.tolist() == [48.0, 48.0]


def test_refuses_terms_the_data_cannot_separate():
    X = np.column_stack([np.ones(10), np.arange(10), 2 * np.arange(10)])
    with pytest.raises(AnalysisError, match="not estimable"):
        fit_mixed_model(np.arange(10.0), X, ["i", "a", "b"], np.repeat([0, 1], 5))


def test_ar1_needs_days():
    with pytest.raises(AnalysisError, match="study day"):
        fit_mixed_model(
            np.arange(10.0), np.ones((10, 1)), ["i"], np.repeat([0, 1], 5), autocorrelation=True
        )
