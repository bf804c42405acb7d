"""The daily outcome model of a virtual trial, vectorised over participants.

All functions take arrays for a group of participants who follow the same
:class:`~ldntrial.protocol.schedule.SequencePlan` (rows: participants,
columns: study days) and a ``numpy.random.Generator``; none keeps state.
The model and its sources are described in :mod:`ldntrial.simulate.scenarios`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal, special

from ldntrial.protocol.schedule import SequencePlan
from ldntrial.simulate.scenarios import Scenario
from ldntrial.vocab import ConditionKind

__all__ = [
    "ar1_noise",
    "dose_factor",
    "expected_ratings",
    "exposure_curve",
    "improvement_fraction",
    "ratings",
    "ratings_with_noise",
]

REFERENCE_DOSE_MG = 4.5


def exposure_curve(signal: np.ndarray, onset_days: float) -> np.ndarray:
    """Exponential build-up towards ``signal`` (and decay when it drops), day by day.

    s_t = s_{t-1} + (signal_t - s_{t-1}) (1 - exp(-1 / onset_days)), s_0 = 0,
    so a constant signal of 1 reaches 95 % after 3 time constants.
    """
    rate = 1.0 - math.exp(-1.0 / onset_days)
    curve = np.empty(len(signal))
    level = 0.0
    for day, target in enumerate(signal):
        level += (target - level) * rate
        curve[day] = level
    return curve


def dose_factor(dose_mg: np.ndarray, scenario: Scenario) -> np.ndarray:
    """Emax(dose) / Emax(4.5 mg) with Emax(d) = d^h / (d^h + ED50^h); 0 where no LDN is taken."""
    doses = np.nan_to_num(np.asarray(dose_mg, dtype=float), nan=0.0)

    hill, ed50 = scenario.hill, scenario.ed50_mg
    emax = doses**hill / (doses**hill + ed50**hill)
    at_reference = REFERENCE_DOSE_MG**hill / (REFERENCE_DOSE_MG**hill + ed50**hill)
    return np.asarray(emax / at_reference)


def improvement_fraction(
    plan: SequencePlan, scenario: Scenario, placebo: np.ndarray, ldn: np.ndarray
) -> np.ndarray:
    """R_it = P_i g_placebo(t) + L_i g_ldn(t): the fraction of symptoms gone, per day."""
    on_capsules = (plan.kind != ConditionKind.NONE).astype(float)
    on_ldn = (plan.kind == ConditionKind.LDN) * dose_factor(plan.dose_mg, scenario)
    g_placebo = exposure_curve(on_capsules, scenario.placebo_onset_days)
    g_ldn = exposure_curve(on_ldn, scenario.ldn_onset_days)
    return np.asarray(placebo[:, None] * g_placebo[None, :] + ldn[:, None] * g_ldn[None, :])


def ar1_noise(n: int, days: int, scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Stationary AR(1) day-to-day noise with SD ``noise_sd`` and lag-1 correlation ``ar1``.

    noise[0] = shock[0]; noise[t] = phi * noise[t-1] + sqrt(1 - phi^2) * shock[t], run
    by scipy's C filter rather than a Python loop over days.
    """
    phi = scenario.ar1
    shocks = rng.standard_normal((n, days)) * scenario.noise_sd
    scale = math.sqrt(1.0 - phi * phi)
    shocks[:, 0] /= scale  # so that the filter's first output is the stationary shock itself
    return np.asarray(signal.lfilter([scale], [1.0, -phi], shocks, axis=1))


def ratings(
    level: np.ndarray,
    improvement: np.ndarray,
    scenario: Scenario,
    rng: np.random.Generator,
    *,
    higher_is_better: bool,
) -> np.ndarray:
    """Whole-number 0-100 ratings from personal levels of *badness* and the improvement R.

    For an item where higher is better the model runs on 100 - rating, so that
    improvement always lowers the badness.
    """
    n, days = improvement.shape
    noise = ar1_noise(n, days, scenario, rng)
    return ratings_with_noise(level, improvement, noise, higher_is_better=higher_is_better)


def ratings_with_noise(
    level: np.ndarray, improvement: np.ndarray, noise: np.ndarray, *, higher_is_better: bool
) -> np.ndarray:
    """:func:`ratings` with the day-to-day noise given: many evaluations can share one draw."""
    badness = level[:, None] * (1.0 - improvement) + noise
    values = np.clip(np.rint(badness), 0, 100)
    return np.asarray(100.0 - values if higher_is_better else values)


def expected_ratings(
    level: np.ndarray, improvement: np.ndarray, scenario: Scenario, *, higher_is_better: bool
) -> np.ndarray:
    """The mean of :func:`ratings` over the day-to-day noise, exactly: the population truth.

    A rating is clip(round(X), 0, 100) with X ~ Normal(m, noise_sd^2) (the AR(1)
    series is stationary), whose mean is sum_{k=1}^{100} P(X >= k - 1/2); rounding
    and the ends of the scale are allowed for, not approximated away.
    """
    badness = level[:, None] * (1.0 - improvement)
    if scenario.noise_sd == 0:
        mean = np.clip(np.rint(badness), 0, 100)
    else:
        # The mean is a smooth function of m alone: tabulate it every 0.01 point, interpolate.
        reach = 10 * scenario.noise_sd
        grid = np.arange(-reach, 100 + reach, 0.01)
        steps = np.arange(1, 101) - 0.5
        table = special.ndtr((grid[:, None] - steps[None, :]) / scenario.noise_sd).sum(axis=1)
        mean = np.interp(badness, grid, table)
    return 100.0 - mean if higher_is_better else mean
