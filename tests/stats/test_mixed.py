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


def _crossover_with_own_effects(rng, *, groups=24, days=28, effect_sd=4.0, rho=0.0):
    """A 2 x 2 crossover whose women differ in their effect (SD ``effect_sd``)."""
    y, X, group, day = _crossover_with_ar1(rng, groups=groups, days=days, rho=rho, effect=0.0)
    own_effect = rng.normal(0, effect_sd, groups)
    return y + own_effect[group] * X[:, 1], X, group, day


def test_random_condition_effect_agrees_with_statsmodels():
    rng = np.random.default_rng(8)
    y, X, group, _ = _crossover_with_own_effects(rng)
    frame = pd.DataFrame({"y": y, "treated": X[:, 1], "period": X[:, 2], "g": group})
    reference = smf.mixedlm("y ~ treated + period", frame, groups="g", re_formula="~treated").fit(
        reml=True, method=["lbfgs"]
    )
    fit = fit_mixed_model(y, X, ["Intercept", "treated", "period"], group, random_slope="treated")
    # The same REML optimum (statsmodels reports the log-likelihood, lme4 -2 times it).
    assert fit.reml_criterion == pytest.approx(-2 * reference.llf, abs=1e-6)
    # The likelihood is flat at its top: two optimisers stop 1e-5 apart in beta.
    assert_allclose(fit.beta, reference.fe_params, rtol=1e-4)
    covariance = reference.cov_re.to_numpy()
    assert fit.slope_variance == pytest.approx(covariance[1, 1], rel=1e-3)
    assert fit.tau2 == pytest.approx(covariance[0, 0], rel=1e-3)
    assert fit.sigma2 == pytest.approx(reference.scale, rel=1e-5)
    # statsmodels' standard errors come from the Hessian of all parameters together;
    # the condition term's agrees with lme4's (X'V^-1 X)^-1 to 1e-4, period's to 1 %.
    assert np.sqrt(fit.covariance[1, 1]) == pytest.approx(reference.bse_fe.iloc[1], rel=1e-4)
    # Containment: condition and period are judged on 24 women, not ~600 days.
    assert fit.df.tolist() == [23.0, 22.0, 22.0]


def _dense_reml(y, X, group, day, sigma2, rho, covariance):
    """-2 REML log-likelihood written out with one dense V per participant (no whitening)."""
    n, p = X.shape
    log_det_v, xvx, xvy, blocks = 0.0, np.zeros((p, p)), np.zeros(p), []
    for g in np.unique(group):
        rows = group == g
        d = day[rows]
        Z = np.column_stack([np.ones(rows.sum()), X[rows, 1]])
        V = sigma2 * (rho ** np.abs(d[:, None] - d[None, :]) + Z @ covariance @ Z.T / sigma2)
        V_inv = np.linalg.inv(V)
        log_det_v += np.linalg.slogdet(V)[1]
        xvx += X[rows].T @ V_inv @ X[rows]
        xvy += X[rows].T @ V_inv @ y[rows]
        blocks.append((rows, V_inv))
    beta = np.linalg.solve(xvx, xvy)
    residual = y - X @ beta
    quadratic = sum(residual[rows] @ V_inv @ residual[rows] for rows, V_inv in blocks)
    return log_det_v + np.linalg.slogdet(xvx)[1] + quadratic + (n - p) * np.log(2 * np.pi)


def test_random_condition_effect_with_ar1_is_the_dense_reml_optimum():
    """The whitened, Woodbury criterion equals the textbook dense -2 l_R at the fitted
    parameters, and no nearby parameters do better."""
    rng = np.random.default_rng(21)
    y, X, group, day = _crossover_with_own_effects(rng, groups=12, days=30, rho=0.5)
    fit = fit_mixed_model(
        y,
        X,
        ["i", "treated", "period"],
        group,
        days=day,
        autocorrelation=True,
        random_slope="treated",
    )
    slope_covariance = fit.slope_correlation * np.sqrt(fit.tau2 * fit.slope_variance)
    covariance = np.array([[fit.tau2, slope_covariance], [slope_covariance, fit.slope_variance]])
    at_fit = _dense_reml(y, X, group, day, fit.sigma2, fit.rho, covariance)
    assert at_fit == pytest.approx(fit.reml_criterion, abs=1e-6)
    for change in ((1.05, 1, 1), (1, 1.05, 1), (1, 1, 1.05), (0.95, 1, 1), (1, 0.95, 1)):
        sigma2, rho, scale = fit.sigma2 * change[0], min(fit.rho * change[1], 0.99), change[2]
        assert _dense_reml(y, X, group, day, sigma2, rho, covariance * scale) >= at_fit - 1e-9


def test_random_condition_effect_keeps_its_error_rate_where_days_as_data_do_not():
    """200 null crossovers of 20 women whose own effects spread with SD 4 around 0: the
    random-intercept model says "p < 0.05" far too often, the random condition effect
    about 5 % of the time (binomial SE 1.5 points)."""
    rng = np.random.default_rng(14)
    rejected = {"intercept only": 0, "own effects": 0}
    trials = 200
    for _ in range(trials):
        y, X, group, _ = _crossover_with_own_effects(rng, groups=20, days=28, effect_sd=4.0)
        for label, slope in (("intercept only", None), ("own effects", "treated")):
            fit = fit_mixed_model(y, X, ["i", "treated", "p"], group, random_slope=slope)
            rejected[label] += fit.table().iloc[1]["p_value"] < 0.05
    assert rejected["intercept only"] / trials > 0.12
    assert 0.02 <= rejected["own effects"] / trials <= 0.085


def test_a_random_slope_needs_its_column():
    with pytest.raises(AnalysisError, match="random 'dose'"):
        fit_mixed_model(
            np.arange(10.0), np.ones((10, 1)), ["i"], np.repeat([0, 1], 5), random_slope="dose"
        )


@pytest.mark.parametrize("rho", [0.0, 0.4, 0.93])
def test_the_statistics_of_a_rho_are_those_of_the_rows_whitened_one_by_one(rho):
    """The per-fit sums by gap length give what whitening each row and multiplying gives:
    checked against the Prais-Winsten rows built here in a plain loop, with missed days."""
    from ldntrial.stats.mixed import _Sorted

    rng = np.random.default_rng(7)
    codes, days = [], []
    for person in range(12):
        kept = np.sort(rng.choice(np.arange(1, 60), size=int(rng.integers(5, 40)), replace=False))
        codes += [person] * len(kept)
        days += kept.tolist()
    codes, days = np.array(codes), np.array(days, dtype=float)
    n = len(codes)
    X = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=n)])
    y = 50 + X @ [0.0, -6.0, 2.0] + rng.normal(0, 12, n)
    Z = X[:, :2]
    rows = np.column_stack([y, X, Z])
    whitened = np.empty_like(rows)
    for r in range(n):
        first = r == 0 or codes[r] != codes[r - 1]
        a = 0.0 if first else rho ** max(days[r] - days[r - 1], 1.0)
        previous = 0.0 if first else rows[r - 1]
        whitened[r] = (rows[r] - a * previous) / np.sqrt(1.0 - a * a)
    y_w, X_w, Z_w = whitened[:, 0], whitened[:, 1:4], whitened[:, 4:]
    statistics = _Sorted(y, X, Z, codes, days).statistics(rho)
    assert_allclose(statistics.xtx, X_w.T @ X_w, rtol=1e-11)
    assert_allclose(statistics.xty, X_w.T @ y_w, rtol=1e-11)
    assert statistics.yty == pytest.approx(y_w @ y_w, rel=1e-11)
    for person in range(12):
        mine = codes == person
        assert_allclose(statistics.zz[person], Z_w[mine].T @ Z_w[mine], rtol=1e-10, atol=1e-9)
        assert_allclose(statistics.zx[person], Z_w[mine].T @ X_w[mine], rtol=1e-10, atol=1e-9)
        assert_allclose(statistics.zy[person], Z_w[mine].T @ y_w[mine], rtol=1e-10, atol=1e-9)
    gaps = np.diff(days)[codes[1:] == codes[:-1]]
    log_det = np.sum(np.log1p(-(rho ** (2 * np.maximum(gaps, 1.0)))))
    assert statistics.log_det_r == pytest.approx(log_det, rel=1e-12, abs=1e-12)
