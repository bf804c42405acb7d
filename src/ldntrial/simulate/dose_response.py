"""The dose at which half respond: an up-and-down study's truth and its calibration.

An up-and-down study estimates ED_p, the dose at which a share p of women
respond by the protocol's response rule (dose-finding-2020: at least 30 % less
pain than at baseline in the final week of two weeks on the dose). In the
simulator a woman responds or not through her diary, so P(respond | dose)
follows from the daily model (:mod:`ldntrial.simulate.scenarios`): her
placebo response, her LDN effect at that dose (an Emax curve in dose with
Hill coefficient ``hill``, scaled to ``ldn_effect`` at 4.5 mg), day-to-day
noise and missed days. Even with no LDN effect about one woman in seven
"responds" on the placebo response and noise alone.

The scenario states the curve as the published design reported it: the doses
at which 50 % and 95 % respond (``response_ed50_mg`` 3.88, ``response_ed95_mg``
5.40; Bruun-Plesner 2020). :func:`calibrated_for_up_and_down` solves the daily
model's ``ldn_effect`` and ``hill`` so that simulated women respond at those
doses, and :func:`response_rates` measures P(respond | dose) on a fixed
sample of virtual women who complete the dose's phase: the truth a validation
compares ED estimates with.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from ldntrial.errors import SimulationError
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.schedule import plan_sequence
from ldntrial.protocol.windows import baseline_window, endpoint_windows, percent_improvement
from ldntrial.simulate.outcomes import ar1_noise, improvement_fraction, ratings_with_noise
from ldntrial.simulate.scenarios import Scenario

__all__ = ["calibrated_for_up_and_down", "response_rates", "true_effective_doses"]

WOMEN = 20_000
"""Virtual women per dose: P(respond) to about +-0.004 (its Monte-Carlo SE at 0.5)."""
WOMEN_SEED = 20_200_220
"""One fixed sample, so that the calibration and the truth see the same women."""
LARGEST_EFFECT = 3.0
LARGEST_HILL = 40.0


@dataclass(frozen=True)
class _Women:
    """The random parts of many virtual women, drawn once and shared by every dose."""

    placebo: np.ndarray
    ldn_spread: np.ndarray  # her LDN effect minus ldn_effect: ESR term plus her own deviation
    level: np.ndarray
    noise: np.ndarray
    observed: np.ndarray


def _draw_women(protocol: Protocol, params: Scenario) -> _Women:
    ladder = _ladder(protocol) or [math.nan]
    days = plan_sequence(protocol, _sequence(protocol), dose_mg=ladder[0]).total_days
    rng = np.random.default_rng(WOMEN_SEED)
    esr = np.round(params.esr_median * np.exp(rng.normal(0, params.esr_log_sd, WOMEN)), 1)
    return _Women(
        placebo=rng.normal(params.placebo_response, params.placebo_sd, WOMEN),
        ldn_spread=params.esr_slope * np.log(esr / params.esr_median)
        + rng.normal(0, params.ldn_effect_sd, WOMEN),
        level=np.clip(rng.normal(params.baseline_mean, params.baseline_sd, WOMEN), 5, 98),
        noise=ar1_noise(WOMEN, days, params, rng),
        observed=rng.random((WOMEN, days)) >= params.missing_day_rate,
    )


def _ladder(protocol: Protocol) -> list[float]:
    """The up-and-down design's doses, lowest first; none for any other design."""
    return list(protocol.up_and_down.doses_mg) if protocol.up_and_down else []


def _rule(protocol: Protocol) -> tuple[str, float, bool]:
    """The response rule's item, threshold (%) and whether higher is better."""
    rule = protocol.response_rule
    assert rule is not None  # the rules require one of an up-and-down design
    item = protocol.diary_item(rule.item)
    return rule.item, rule.min_improvement_percent, item.higher_is_better


def _rate(protocol: Protocol, params: Scenario, women: _Women, dose: float) -> float:
    """The share of ``women`` who meet the response rule after the dose's phase."""
    plan = plan_sequence(protocol, _sequence(protocol), dose_mg=dose)
    _item, threshold, higher_is_better = _rule(protocol)
    improvement = improvement_fraction(
        plan, params, women.placebo, params.ldn_effect + women.ldn_spread
    )
    values = ratings_with_noise(
        women.level, improvement, women.noise, higher_is_better=higher_is_better
    )
    values = np.where(women.observed, values, np.nan)
    first, last = baseline_window(protocol, plan)
    window = np.concatenate(
        [np.arange(w.first_day, w.last_day + 1) for w in endpoint_windows(protocol, plan)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # every day of a window missed: NaN
        baseline = np.nanmean(values[:, first - 1 : last], axis=1)
        endpoint = np.nanmean(values[:, window - 1], axis=1)
    change = np.asarray(percent_improvement(baseline, endpoint, higher_is_better=higher_is_better))
    evaluable = np.isfinite(change)
    return float(np.mean(change[evaluable] >= threshold))


def response_rates(protocol: Protocol, params: Scenario, doses: Sequence[float]) -> np.ndarray:
    """P(respond | dose) for each dose: the share of 20,000 virtual women who complete it."""
    women = _draw_women(protocol, params)
    return np.array([_rate(protocol, params, women, float(dose)) for dose in doses])


def true_effective_doses(
    protocol: Protocol, params: Scenario, shares: Sequence[float] = (0.5, 0.95)
) -> dict[float, float | None]:
    """The dose at which each share of women respond, on the protocol's ladder (None: never).

    Solved once per protocol, scenario and shares in a process.
    """
    key = ("truth", protocol.model_dump_json(), params.model_dump_json(), tuple(shares))
    if key not in _SOLVED:
        _SOLVED[key] = _effective_doses(protocol, params, shares)
    return dict(_SOLVED[key])


def _effective_doses(
    protocol: Protocol, params: Scenario, shares: Sequence[float]
) -> dict[float, float | None]:
    ladder = _ladder(protocol)
    women = _draw_women(protocol, params)
    low, high = min(ladder), max(ladder)
    at_low = _rate(protocol, params, women, low)
    at_high = _rate(protocol, params, women, high)
    doses: dict[float, float | None] = {}
    for share in shares:
        if not at_low <= share <= at_high:
            doses[share] = None
            continue
        doses[share] = float(
            optimize.brentq(
                lambda d, s=share: _rate(protocol, params, women, d) - s, low, high, xtol=1e-3
            )
        )
    return doses


_SOLVED: dict[tuple[object, ...], Any] = {}


def calibrated_for_up_and_down(protocol: Protocol, params: Scenario) -> Scenario:
    """``params`` with ``ldn_effect`` and ``hill`` solved so that the published doses hold.

    Applies to an up-and-down protocol when the scenario gives
    ``response_ed50_mg`` (and ``response_ed95_mg``); otherwise ``params`` is
    returned unchanged. Solved once per protocol and scenario in a process.
    """
    if protocol.up_and_down is None or params.response_ed50_mg is None:
        return params
    key = ("calibration", protocol.model_dump_json(), params.model_dump_json())
    if key not in _SOLVED:
        _SOLVED[key] = _calibrate(protocol, params)
    calibrated: Scenario = _SOLVED[key]
    return calibrated


def _calibrate(protocol: Protocol, params: Scenario) -> Scenario:
    ed50, ed95 = params.response_ed50_mg, params.response_ed95_mg
    assert ed50 is not None and ed95 is not None  # the Scenario validator pairs them
    women = _draw_women(protocol, params)

    top = float(max(_ladder(protocol) or [ed95]))

    def rate(effect: float, hill: float, dose: float) -> float:
        trial = params.model_copy(update={"ldn_effect": effect, "hill": hill, "ed50_mg": top})
        return _rate(protocol, trial, women, dose)

    floor = rate(0.0, params.hill, ed50)
    if floor >= 0.5:
        raise SimulationError(
            f"response_ed50_mg: {floor:.0%} of women respond with no LDN effect at all, so "
            "no LDN effect can make the dose at which half respond "
            f"{ed50:g} mg; lower placebo_response or noise_sd"
        )

    def effect_for(hill: float) -> float:
        if rate(LARGEST_EFFECT, hill, ed50) < 0.5:
            return LARGEST_EFFECT
        return float(
            optimize.brentq(lambda e: rate(e, hill, ed50) - 0.5, 0.0, LARGEST_EFFECT, xtol=1e-4)
        )

    def gap(hill: float) -> float:
        return rate(effect_for(hill), hill, ed95) - 0.95

    if gap(0.5) > 0:
        raise SimulationError(
            f"response_ed95_mg: even the shallowest curve has 95 % responding before "
            f"{ed95:g} mg when half respond at {ed50:g} mg; lower response_ed95_mg"
        )
    if gap(LARGEST_HILL) < 0:
        raise SimulationError(
            f"response_ed95_mg: the day-to-day noise is too large for 95 % of women to respond "
            f"at {ed95:g} mg when half respond at {ed50:g} mg; raise response_ed95_mg"
        )
    hill = float(optimize.brentq(gap, 0.5, LARGEST_HILL, xtol=1e-3))
    return params.model_copy(update={"ldn_effect": effect_for(hill), "hill": hill, "ed50_mg": top})


def _sequence(protocol: Protocol) -> str:
    return protocol.all_sequences[0].name
