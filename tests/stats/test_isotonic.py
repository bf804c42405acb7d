"""Centred isotonic regression against hand computations (Oron & Flournoy 2017)."""

import numpy as np
import pytest

from ldntrial.stats.isotonic import centred_isotonic


def test_increasing_rates_are_kept_and_read_by_straight_lines():
    # 1 mg: 0/2, 2 mg: 1/4, 3 mg: 3/4: already increasing.
    doses = [1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
    responded = [0, 0, 1, 0, 0, 0, 1, 1, 1, 0]
    curve = centred_isotonic(np.array(doses), np.array(responded))
    assert curve.doses.tolist() == [1, 2, 3]
    assert curve.rates.tolist() == [0, 0.25, 0.75]
    # Half respond a quarter of the way... from 0.25 at 2 mg to 0.75 at 3 mg: at 2.5 mg.
    assert curve.dose_at(0.5) == pytest.approx(2.5)
    assert curve.dose_at(0.95) is None  # never reached on these doses
    assert curve.dose_at(0.0) == pytest.approx(1.0)


def test_a_violation_is_pooled_at_the_weighted_mean_dose():
    # 2 mg: 2/3 then 3 mg: 1/5 violates; pooled: 3/8 at (2*3 + 3*5)/8 = 2.625 mg.
    doses = [1] * 2 + [2] * 3 + [3] * 5 + [4] * 2
    responded = [*[0, 0], *[1, 1, 0], *[1, 0, 0, 0, 0], *[1, 1]]
    curve = centred_isotonic(np.array(doses), np.array(responded))
    assert curve.doses == pytest.approx([1.0, 2.625, 4.0])
    assert curve.rates == pytest.approx([0.0, 3 / 8, 1.0])
    assert curve.participants.tolist() == [2, 8, 2]
    assert curve.dose_at(0.5) == pytest.approx(2.625 + (0.5 - 3 / 8) / (1 - 3 / 8) * 1.375)


def test_ties_are_pooled_so_that_the_curve_rises_strictly():
    doses = [1, 1, 2, 2, 3, 3]
    responded = [0, 1, 1, 0, 1, 1]
    curve = centred_isotonic(np.array(doses), np.array(responded))
    assert curve.doses.tolist() == [1.5, 3.0] and curve.rates.tolist() == [0.5, 1.0]
    assert np.all(np.diff(curve.rates) > 0)
