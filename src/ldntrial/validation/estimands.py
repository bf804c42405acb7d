"""The true value of what each analysis estimates, from the simulator's expected diaries.

A validation needs the truth without running the analysis it checks. Every
estimand here is a population mean of a per-participant quantity defined by
the protocol's windows (:mod:`ldntrial.protocol.windows`), computed from each
simulated woman's *expected* ratings (:func:`ldntrial.simulate.expected_diary`:
no noise, nobody missing), under every sequence she could have been given,
weighted by how often the allocation gives each one:

- ``endpoint``: the end-point analysis' comparison. Within-participant designs:
  mean % improvement on LDN minus on placebo (or against no change, single
  arm); a parallel trial: mean change from baseline in rating points on LDN
  minus on placebo (what its ANCOVA term estimates under randomisation).
- ``daily``: the daily model's comparison: mean rating over the compared days
  of LDN minus over those of the comparator (placebo, or the baseline window).

The mean is over ``people`` women drawn in chunks (default 20,000), enough for
a truth whose own Monte-Carlo error (reported) is a fraction of a trial's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ldntrial.protocol.design import Design
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.schedule import SequencePlan, lab_draws
from ldntrial.protocol.windows import (
    baseline_window,
    daily_comparison_days,
    endpoint_windows,
    percent_improvement,
)
from ldntrial.simulate import ExpectedDiary, Scenario, expected_diary, get_scenario
from ldntrial.simulate.dose_response import (
    WOMEN,
    calibrated_for_up_and_down,
    response_rates,
    true_effective_doses,
)
from ldntrial.simulate.events import REDUCED_ON_LDN
from ldntrial.simulate.outcomes import exposure_curve
from ldntrial.vocab import ConditionKind

__all__ = ["Truth", "other_true_values", "own_true_values", "true_values"]

CHUNK_PEOPLE = 5_000


@dataclass(frozen=True)
class Truth:
    """One estimand's true value and the standard error of computing it from ``people``."""

    value: float
    standard_error: float
    people: int


def true_values(
    protocol: Protocol,
    scenario: str | Scenario,
    items: list[str],
    *,
    people: int = 20_000,
    seed: int = 20_261_203,
) -> dict[str, dict[str, Truth]]:
    """``{item: {"endpoint": Truth, "daily": Truth}}`` for each of ``items``."""
    design = protocol.design
    per_person: dict[tuple[str, str], list[np.ndarray]] = {}
    for start in range(0, people, CHUNK_PEOPLE):
        diary = expected_diary(
            protocol,
            n=min(CHUNK_PEOPLE, people - start),
            seed=seed + start,
            scenario=scenario,
            items=items,
        )
        for item in items:
            higher = protocol.diary_item(item).higher_is_better
            endpoint = _endpoint_statistic(protocol, design, higher)
            per_person.setdefault((item, "endpoint"), []).append(
                _contrast(protocol, diary, item, endpoint)
            )
            per_person.setdefault((item, "daily"), []).append(
                _contrast(protocol, diary, item, _daily_statistic(protocol))
            )
    truths: dict[str, dict[str, Truth]] = {}
    for (item, kind), chunks in per_person.items():
        values = np.concatenate(chunks)
        truths.setdefault(item, {})[kind] = Truth(
            value=float(np.mean(values)),
            standard_error=float(np.std(values, ddof=1) / np.sqrt(len(values))),
            people=len(values),
        )
    return truths


def other_true_values(
    protocol: Protocol, scenario: str | Scenario, overrides: dict[str, Any] | None = None
) -> dict[str, dict[str, Truth | None]]:
    """The true values not read from the diary: effective doses and cytokine log changes.

    ``effective_doses``: the dose at which 50 % and 95 % of women respond
    (:func:`ldntrial.simulate.dose_response.true_effective_doses`; None where no
    dose on the ladder gets there). ``cytokines``: per analyte the mean log
    change the panel's model estimates, the scenario's change times LDN's
    build-up averaged over the draws on LDN minus over those it is compared with.
    ``blinding``: Bang's index of the simulated guesses, (1 - share unsure) x
    (2 x share right among those who guess - 1), the same on every condition.
    """
    params = get_scenario(scenario).for_protocol(protocol.id).with_overrides(overrides or {})
    if protocol.design == Design.DOSE_FINDING:
        params = calibrated_for_up_and_down(protocol, params)
        doses = true_effective_doses(protocol, params)
        return {
            "effective_doses": {
                f"ED{round(share * 100)}": None
                if dose is None
                else _effective_dose_truth(protocol, params, share, dose)
                for share, dose in doses.items()
            }
        }
    index = (1 - params.guess_dont_know) * (2 * params.guess_correct_when_guessing - 1)
    truths: dict[str, dict[str, Truth | None]] = {
        "blinding": {"index": Truth(value=index, standard_error=0.0, people=0)}
    }
    scheduled = [p for p in protocol.labs if p.at == "scheduled"]
    analytes = sorted({a for p in scheduled for a in p.analytes if a != "esr"})
    if not analytes:
        return truths
    change = _cytokine_log_change(protocol, params, {p.id for p in scheduled})
    return truths | {
        "cytokines": {
            analyte: Truth(
                value=change if analyte in REDUCED_ON_LDN else 0.0, standard_error=0.0, people=0
            )
            for analyte in analytes
        }
    }


def _effective_dose_truth(
    protocol: Protocol, params: Scenario, share: float, dose: float
) -> Truth:
    """The dose with the Monte-Carlo error of the virtual women's response rate behind it."""
    step = 0.1
    low, high = response_rates(protocol, params, [dose - step, dose + step])
    slope = (high - low) / (2 * step)
    women_error = np.sqrt(share * (1 - share) / WOMEN)
    return Truth(
        value=dose,
        standard_error=float(women_error / slope) if slope > 0 else float("nan"),
        people=WOMEN,
    )


def _cytokine_log_change(protocol: Protocol, params: Scenario, panels: set[str]) -> float:
    comparison = protocol.comparison
    diary = expected_diary(protocol, n=1000, seed=1, scenario=params, items=[])
    total = 0.0
    for name, plan in diary.plans.items():
        g_ldn = exposure_curve(
            (plan.kind == ConditionKind.LDN).astype(float), params.ldn_onset_days
        )
        days = np.array([day for panel, day in lab_draws(protocol, plan) if panel in panels])
        condition = plan.condition[days - 1]
        treated = condition == comparison.treatment
        if comparison.comparator:
            other = condition == comparison.comparator
        else:
            other = plan.phase[days - 1] == comparison.baseline_phase
        level = params.cytokine_ldn_log_change * g_ldn[days - 1]
        total += diary.shares[name] * (level[treated].mean() - level[other].mean())
    return float(total)


def own_true_values(protocol: Protocol, diary: ExpectedDiary, item: str) -> np.ndarray:
    """Each participant's own daily-model contrast under the sequence she was given."""
    statistic = _daily_statistic(protocol)
    own = np.full(len(diary.sequence), np.nan)
    for name, plan in diary.plans.items():
        mine = diary.sequence == name
        treatment, comparator = statistic(plan, diary.ratings[name][item][mine])
        own[mine] = treatment - comparator
    return own


# A statistic maps (one sequence's plan, expected ratings of everyone under it) to
# per-person (treatment value, comparator value); NaN where the plan lacks that side.
Statistic = Callable[[SequencePlan, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _contrast(
    protocol: Protocol, diary: ExpectedDiary, item: str, statistic: Statistic
) -> np.ndarray:
    """Per person: the allocation-weighted treatment side minus the comparator side.

    Each side is averaged over the sequences that contain it, so a parallel
    trial compares the LDN arm with the placebo arm and a crossover averages
    its sequences' within-person differences.
    """
    n = len(diary.sequence)
    treated, compared = np.zeros(n), np.zeros(n)
    treated_weight = compared_weight = 0.0
    for name, plan in diary.plans.items():
        share = diary.shares[name]
        treatment, comparator = statistic(plan, diary.ratings[name][item])
        if np.isfinite(treatment).all():
            treated += share * treatment
            treated_weight += share
        if np.isfinite(comparator).all():
            compared += share * comparator
            compared_weight += share
    comparator_side = compared / compared_weight if compared_weight else 0.0
    return np.asarray(treated / treated_weight - comparator_side)


def _endpoint_statistic(protocol: Protocol, design: Design, higher_is_better: bool) -> Statistic:
    comparison = protocol.comparison

    def statistic(plan: SequencePlan, ratings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first, last = baseline_window(protocol, plan)
        baseline = ratings[:, first - 1 : last].mean(axis=1)
        sides: dict[str, list[np.ndarray]] = {}
        for window in endpoint_windows(protocol, plan):
            endpoint = ratings[:, window.first_day - 1 : window.last_day].mean(axis=1)
            if design == Design.PARALLEL:
                value = endpoint - baseline  # rating points, as the ANCOVA outcome
            else:
                value = percent_improvement(baseline, endpoint, higher_is_better=higher_is_better)
            sides.setdefault(window.condition, []).append(value)
        missing = np.full(len(ratings), np.nan)

        def side(condition: str | None) -> np.ndarray:
            if condition is None:
                return np.zeros(len(ratings))  # single arm: against no change
            values = sides.get(condition)
            return np.mean(values, axis=0) if values else missing

        return side(comparison.treatment), side(comparison.comparator)

    return statistic


def _daily_statistic(protocol: Protocol) -> Statistic:
    comparison = protocol.comparison

    def statistic(plan: SequencePlan, ratings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        compared = daily_comparison_days(protocol, plan)
        condition = plan.condition
        on_treatment = compared & (condition == comparison.treatment)
        if comparison.comparator is not None:
            on_comparator = compared & (condition == comparison.comparator)
        else:
            on_comparator = compared & (plan.phase == comparison.baseline_phase)
        missing = np.full(len(ratings), np.nan)

        def mean_over(days: np.ndarray) -> np.ndarray:
            return ratings[:, : plan.total_days][:, days].mean(axis=1) if days.any() else missing

        return mean_over(on_treatment), mean_over(on_comparator)

    return statistic
