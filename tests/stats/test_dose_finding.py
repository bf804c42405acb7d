"""ED50 and ED95 from up-and-down data drawn from a known logistic curve."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ldntrial.errors import AnalysisError
from ldntrial.stats.dose_finding import effective_dose, estimate_effective_doses

LEVELS = np.array([0.75, 1.5, 2.25, 3.0, 3.75, 4.5, 5.25, 6.0])


def _up_and_down(rng, n, a, b, start=5):
    """Down one level after a response, up one after none (the classic rule)."""
    level, doses, responses = start, [], []
    for _ in range(n):
        dose = LEVELS[level]
        responded = rng.random() < 1 / (1 + math.exp(-(a + b * dose)))
        doses.append(dose)
        responses.append(responded)
        level = max(level - 1, 0) if responded else min(level + 1, len(LEVELS) - 1)
    return np.array(doses), np.array(responses)


def test_recovers_ed50_and_ed95_of_a_known_curve():
    # Truth: ED50 3.88 mg and ED95 5.40 mg (the published values) fix a and b.
    b = math.log(19) / (5.40 - 3.88)
    a = -b * 3.88
    doses, responses = _up_and_down(np.random.default_rng(6), 4000, a, b)
    table = estimate_effective_doses(doses, responses).set_index("term")
    assert table.loc["ED50 (mg)", "estimate"] == pytest.approx(3.88, abs=0.08)
    assert table.loc["ED95 (mg)", "estimate"] == pytest.approx(5.40, abs=0.3)
    assert table.loc["ED50 (mg)", "ci_lower"] < 3.88 < table.loc["ED50 (mg)", "ci_upper"]


def test_fieller_interval_by_hand():
    # a = -4, b = 1: ED50 = 4; with var(b) = 0.01, var(a) = 0.25, cov = -0.04.
    covariance = np.array([[0.25, -0.04], [-0.04, 0.01]])
    estimate, low, high = effective_dose(-4.0, 1.0, covariance, 0.5)
    t = 1.959963984540054
    g = t * t * 0.01
    inner = 0.25 - 2 * 4 * 0.04 + 16 * 0.01 - g * (0.25 - 0.04**2 / 0.01)
    centre = 4 - g * 0.04 / 0.01
    assert estimate == 4.0
    assert low == pytest.approx((centre - t * math.sqrt(inner)) / (1 - g))
    assert high == pytest.approx((centre + t * math.sqrt(inner)) / (1 - g))


def test_unbounded_interval_is_reported_as_missing():
    estimate, low, high = effective_dose(-1.0, 0.1, np.array([[1.0, 0.0], [0.0, 0.04]]), 0.5)
    assert estimate == pytest.approx(10.0)
    assert math.isnan(low) and math.isnan(high)


def test_needs_three_participants_for_two_coefficients():
    with pytest.raises(AnalysisError, match="at least 3 participants, got 2"):
        estimate_effective_doses(np.array([1.0, 2.0]), np.array([True, False]))


def test_needs_both_outcomes():
    with pytest.raises(AnalysisError, match="responders and non-responders"):
        estimate_effective_doses(np.array([1.0, 2.0, 3.0]), np.array([True, True, True]))


def test_an_ed_the_ladder_cannot_reach_is_not_estimable_with_its_reason():
    from ldntrial.simulate import simulate_trial
    from ldntrial.stats.dose_finding import analyse_dose_finding

    # LDN does nothing: the response rate stays at the placebo level on every dose.
    result = analyse_dose_finding(
        simulate_trial("dose-finding-2020", n=60, seed=3, scenario="null")
    )
    ed95 = result.term("ED95 (mg), centred isotonic")
    assert ed95["estimate"] != ed95["estimate"]  # NaN, never an extrapolation
    assert any("ED95 (mg) is not estimable on this ladder" in w for w in result.warnings)
    for term in ("ED50 (mg), logistic", "ED95 (mg), logistic"):
        row = result.term(term)
        assert row["estimate"] != row["estimate"] or 0.75 <= row["estimate"] <= 6.0


def test_a_rising_response_gives_an_isotonic_ed50_on_the_ladder_with_an_interval():
    from ldntrial.simulate import simulate_trial
    from ldntrial.stats.dose_finding import analyse_dose_finding

    trial = simulate_trial(
        "dose-finding-2020", n=60, seed=2, overrides={"ldn_effect": 0.6, "ldn_effect_sd": 0.05}
    )
    result = analyse_dose_finding(trial)
    ed50 = result.term("ED50 (mg), centred isotonic")
    assert 0.75 <= ed50["ci_lower"] <= ed50["estimate"] <= ed50["ci_upper"] <= 6.0
    curve = result.tables["curve"]
    assert (curve["rate"].diff().dropna() > 0).all() and (
        curve["dose_mg"].diff().dropna() > 0
    ).all()
