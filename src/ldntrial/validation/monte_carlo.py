"""Run the validation: many simulated trials per design and scenario, every cell measured.

For each built-in design at its published size, ``sims`` trials are simulated
under ``null`` (LDN does nothing) and ``stanford`` (LDN helps as the Stanford
crossover found), and every cell (:mod:`ldntrial.validation.cells`) is
analysed. Per cell and scenario it reports, each with its Monte-Carlo standard
error (Morris, White & Crowther, Stat Med 2019;38:2074-2102):

- ``rejection``: the share of trials with p < alpha (under ``null``, the
  false-positive rate of a comparison with placebo);
- ``coverage``: the share of 95 % intervals that contain the true value;
- ``bias``: mean estimate minus the true value;
- ``se_ratio``: mean reported standard error over the SD of the estimates.

A cell *meets the target* when its false-positive rate is within alpha +- 1.5
points and its coverage within 93.5-96.5 % under both scenarios. It is
*conservative* when it errs only on the safe side (fewer false positives,
wider intervals: it keeps its error rate and says "we cannot tell" more
often than it must), and *exploratory* when it errs on the other (too many
false positives, intervals that miss the truth too often, or no placebo to
compare with), with the figures that say why. ``tolerance`` widens
every bound by that many Monte-Carlo SEs (the fast check in the test suite).

Each chunk of trials has its own seed from (seed, protocol, scenario, chunk)
by NumPy's SeedSequence, so the figures do not depend on the number of workers.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ldntrial.errors import AnalysisError
from ldntrial.protocol.loader import load_protocol
from ldntrial.protocol.model import Protocol
from ldntrial.simulate import Scenario, expected_diary, simulate_trial
from ldntrial.stats.chunks import run_chunks
from ldntrial.validation.cells import Cell, cells_for
from ldntrial.validation.estimands import (
    Truth,
    other_true_values,
    own_true_values,
    true_values,
)

__all__ = ["PUBLISHED_SIZES", "CellFigures", "Validation", "validate"]

SCENARIOS = ("null", "stanford")
CHUNK = 25
TARGET_REJECTION = 0.015  # alpha +- 1.5 points
TARGET_COVERAGE = (0.935, 0.965)

PUBLISHED_SIZES = {
    "crossover-2013": 31,  # Younger 2013: 31 women randomised
    "pilot-2009": 10,  # Younger & Mackey 2009
    "cytokine-2017": 8,  # Parkitny & Younger 2017: 8 analysed
    "crossover-washout-2023": 58,  # Bested 2023: 58 randomised
    "parallel-2024": 98,  # FINAL: 98 women (48 LDN, 50 placebo)
    "nof1": 10,  # ASSUMED: one clinic's series of 10 patients
    "dose-finding-2020": 25,  # Bruun-Plesner 2020: 25 evaluable
}

DEFAULT_SIZE = 30

_PLACEBO_SIDE_EFFECTS = Scenario.model_fields["adverse_event_rates"].get_default(
    call_default_factory=True
)["placebo"]
SCENARIO_OVERRIDES = {
    # The scenario says LDN does nothing for symptoms; for the safety and blinding
    # comparisons to have a null too, side effects come at placebo's weekly rate on
    # both, tolerability is placebo's on both, and a guess is right half the time.
    "null": {
        "adverse_event_rates": {
            "ldn": _PLACEBO_SIDE_EFFECTS,
            "placebo": _PLACEBO_SIDE_EFFECTS,
        },
        "adverse_event_weeks": {"ldn": 4.0, "placebo": 4.0},
        "tolerability_mean": {"ldn": 89.4, "placebo": 89.4},
        "guess_correct_when_guessing": 0.5,
    }
}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CellFigures:
    """One cell under one scenario: what the simulated trials showed."""

    protocol: str
    design: str
    n: int
    cell: str
    title: str
    scenario: str
    trials: int
    failed: int
    truth: float | None
    truth_se: float | None
    rejection: float
    rejection_mcse: float
    coverage: float | None
    coverage_mcse: float | None
    bias: float | None
    bias_mcse: float | None
    se_ratio: float | None
    se_ratio_mcse: float | None
    tests_ldn: bool
    exact_test: bool
    reported: float = math.nan
    reported_mcse: float = math.nan
    has_p_value: bool = True
    has_truth: bool = True


@dataclass(frozen=True)
class Validation:
    """Every cell's figures, its verdict and why, the truths used and the settings."""

    figures: list[CellFigures]
    verdicts: dict[tuple[str, str], tuple[str, list[str]]]
    truths: dict[str, Any]
    settings: dict[str, Any]
    not_validated: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: settings, then one row per protocol and cell with both scenarios."""
        rows = []
        for (protocol, cell), (status, reasons) in self.verdicts.items():
            by_scenario = {
                f.scenario: _figures_dict(f)
                for f in self.figures
                if f.protocol == protocol and f.cell == cell
            }
            first = next(f for f in self.figures if f.protocol == protocol and f.cell == cell)
            rows.append(
                {
                    "protocol": protocol,
                    "design": first.design,
                    "n": first.n,
                    "cell": cell,
                    "title": first.title,
                    "has_p_value": first.has_p_value,
                    "status": status,
                    "reasons": reasons,
                    "scenarios": by_scenario,
                }
            )
        return {
            "settings": self.settings,
            "targets": {
                "rejection_under_null": [
                    self.settings["alpha"] - TARGET_REJECTION,
                    self.settings["alpha"] + TARGET_REJECTION,
                ],
                "coverage": list(TARGET_COVERAGE),
            },
            "cells": rows,
            "not_validated": self.not_validated,
        }


def validate(
    protocols: Sequence[str],
    *,
    sims: int = 1000,
    slow_sims: int = 500,
    seed: int = 2026,
    alpha: float = 0.05,
    workers: int = 1,
    tolerance: float = 0.0,
    truth_people: int = 20_000,
    cells: Sequence[str] | None = None,
    n: int | None = None,
    progress: Progress | None = None,
) -> Validation:
    """Simulate and analyse ``sims`` trials per protocol and scenario (``slow_sims`` for the
    mixed-model cells), and judge every cell against the targets.

    ``cells`` limits the cells by key (e.g. ``["primary", "mixed_model"]``);
    ``n`` is the trial size (default: each built-in design's published size,
    ``DEFAULT_SIZE`` for a protocol file);
    ``workers`` > 1 runs chunks in that many "spawn" processes (call under
    ``if __name__ == "__main__":`` from a script).
    """
    if sims < 1 or not 1 <= slow_sims <= sims:
        raise AnalysisError(f"sims: need 1 <= slow_sims <= sims, got {slow_sims} and {sims}")
    started = time.perf_counter()
    tasks, plans, not_validated, truths = [], {}, {}, {}
    for protocol_id in protocols:
        protocol = load_protocol(protocol_id)
        chosen = [c for c in cells_for(protocol) if cells is None or c.key in cells]
        if not chosen:
            not_validated[protocol_id] = "none of the cells asked for applies to this design"
            continue
        size = n or PUBLISHED_SIZES.get(protocol_id, DEFAULT_SIZE)
        plans[protocol_id] = (protocol, size, chosen)
        items = sorted({c.item for c in chosen if c.estimand in ("endpoint", "daily")})
        truths[protocol_id] = {
            scenario: (
                true_values(protocol, scenario, items, people=truth_people) if items else {}
            )
            | other_true_values(protocol, scenario, SCENARIO_OVERRIDES.get(scenario))
            for scenario in SCENARIOS
        }
        for scenario_index, scenario in enumerate(SCENARIOS):
            for start in range(0, sims, CHUNK):
                entropy = [seed, zlib.crc32(protocol_id.encode()), scenario_index, start]
                tasks.append(
                    _Task(
                        protocol_id=protocol_id,
                        n=size,
                        scenario=scenario,
                        seed=int(np.random.SeedSequence(entropy).generate_state(1)[0]),
                        count=min(CHUNK, sims - start),
                        cells=tuple(c.key for c in chosen if start < slow_sims or not c.slow),
                        alpha=alpha,
                    )
                )
    outcomes = run_chunks(
        _run_task,
        tasks,
        [task.count for task in tasks],
        workers,
        progress or (lambda done, total: None),
    )
    figures, verdicts = [], {}
    for protocol_id, (protocol, size, chosen) in plans.items():
        for cell in chosen:
            per_scenario = []
            for scenario in SCENARIOS:
                rows = [
                    values
                    for task, result in zip(tasks, outcomes, strict=True)
                    if task.protocol_id == protocol_id and task.scenario == scenario
                    for row in result
                    if cell.key in row
                    for values in row[cell.key]
                ]
                truth = (
                    truths[protocol_id][scenario].get(cell.item, {}).get(cell.estimand)
                    if cell.estimand
                    else None
                )
                per_scenario.append(
                    _figures(
                        protocol_id,
                        str(protocol.design),
                        size,
                        cell,
                        scenario,
                        rows,
                        truth,
                        alpha,
                    )
                )
            figures += per_scenario
            verdicts[(protocol_id, cell.key)] = _verdict(per_scenario, alpha, tolerance)
    return Validation(
        figures=figures,
        verdicts=verdicts,
        truths={
            protocol_id: {
                scenario: {
                    item: {
                        kind: None if truth is None else vars(truth)
                        for kind, truth in kinds.items()
                    }
                    for item, kinds in by_item.items()
                }
                for scenario, by_item in by_scenario.items()
            }
            for protocol_id, by_scenario in truths.items()
        },
        settings={
            "sims": sims,
            "slow_sims": slow_sims,
            "seed": seed,
            "alpha": alpha,
            "tolerance_mcse": tolerance,
            "truth_people": truth_people,
            "scenarios": list(SCENARIOS),
            "seconds": round(time.perf_counter() - started, 1),
        },
        not_validated=not_validated,
    )


# -- the work, in chunks -----------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    protocol_id: str
    n: int
    scenario: str
    seed: int
    count: int
    cells: tuple[str, ...]
    alpha: float


def _run_task(task: _Task) -> list[dict[str, list[tuple[float, ...]]]]:
    """Per simulated trial: {cell key: [(estimate, std_error, ci_lower, ci_upper, p_value,
    own truth or NaN), ...]}."""
    protocol = load_protocol(task.protocol_id)
    cells = [c for c in cells_for(protocol) if c.key in task.cells]
    tables = {"participants"} | {table for c in cells for table in c.tables}
    rng = np.random.default_rng(task.seed)
    trials = []
    for seed in rng.integers(2**62, size=task.count):
        trial = simulate_trial(
            protocol,
            n=task.n,
            seed=int(seed),
            scenario=task.scenario,
            overrides=SCENARIO_OVERRIDES.get(task.scenario),
            tables=sorted(tables),
        )
        results: dict[str, Any] = {}
        row: dict[str, list[tuple[float, ...]]] = {}
        for cell in cells:
            if cell.analysis_key not in results:
                try:
                    results[cell.analysis_key] = cell.analysis(trial)
                except AnalysisError:
                    results[cell.analysis_key] = None
            values = cell.rows(results[cell.analysis_key])
            own = _own_truths(protocol, task, int(seed), cell, len(values))
            row[cell.key] = [(*v, truth) for v, truth in zip(values, own, strict=True)]
        trials.append(row)
    return trials


def _own_truths(protocol: Protocol, task: _Task, seed: int, cell: Cell, rows: int) -> list[float]:
    """Per participant her own true value (per-participant cells), else NaN per row."""
    if not cell.per_participant or rows == 0:
        return [math.nan] * rows
    diary = expected_diary(
        protocol, n=task.n, seed=seed, scenario=task.scenario, items=[cell.item]
    )
    return [float(value) for value in own_true_values(protocol, diary, cell.item)]


# -- figures and verdicts -----------------------------------------------------------


def _figures(
    protocol: str,
    design: str,
    n: int,
    cell: Cell,
    scenario: str,
    rows: list[tuple[float, ...]],
    truth: Truth | None,
    alpha: float,
) -> CellFigures:
    data = np.array(rows, dtype=float).reshape(-1, 6)
    estimate, se, lower, upper, p, own = data.T
    # A test counts where it gave a p-value; an estimate-only cell (an effective dose)
    # counts every trial, and whether it reported an estimate at all is a figure.
    analysed = np.isfinite(p) if cell.has_p_value else np.ones(len(data), dtype=bool)
    trials = int(analysed.sum())
    rejection = float(np.mean(p[analysed] < alpha)) if trials else math.nan
    reported = float(np.mean(np.isfinite(estimate))) if len(data) else math.nan
    coverage = bias = se_ratio = None
    coverage_mcse = bias_mcse = se_ratio_mcse = None
    if truth is not None:
        has_interval = analysed & np.isfinite(lower) & np.isfinite(upper)
        # A participant's own truth where the cell has one, else the population's.
        target = np.where(np.isfinite(own), own, truth.value)[has_interval]
        inside = (lower[has_interval] <= target) & (target <= upper[has_interval])
        count = int(has_interval.sum())
        if count:
            coverage = float(inside.mean())
            coverage_mcse = math.sqrt(coverage * (1 - coverage) / count)
            values = estimate[has_interval]
            spread = float(np.std(values - target, ddof=1)) if count > 1 else math.nan
            bias = float(np.mean(values - target))
            bias_mcse = math.sqrt(spread**2 / count + truth.standard_error**2)
            ses = se[has_interval]
            if np.isfinite(ses).all() and spread > 0:
                se_ratio = float(ses.mean() / spread)
                # Delta method: the mean SE's own error and the empirical SD's, 1/sqrt(2(n-1)).
                se_ratio_mcse = se_ratio * math.sqrt(
                    float(np.var(ses, ddof=1)) / (count * float(ses.mean()) ** 2)
                    + 1 / (2 * (count - 1))
                )
    return CellFigures(
        protocol=protocol,
        design=design,
        n=n,
        cell=cell.key,
        title=cell.title,
        scenario=scenario,
        trials=trials,
        failed=len(rows) - trials,
        truth=truth.value if truth else None,
        truth_se=truth.standard_error if truth else None,
        rejection=rejection,
        rejection_mcse=math.sqrt(rejection * (1 - rejection) / trials) if trials else math.nan,
        reported=reported,
        reported_mcse=math.sqrt(reported * (1 - reported) / len(data)) if len(data) else math.nan,
        has_p_value=cell.has_p_value,
        has_truth=truth is not None or cell.estimand is None,
        coverage=coverage,
        coverage_mcse=coverage_mcse,
        bias=bias,
        bias_mcse=bias_mcse,
        se_ratio=se_ratio,
        se_ratio_mcse=se_ratio_mcse,
        tests_ldn=cell.tests_ldn,
        exact_test=cell.exact_test,
    )


def _verdict(
    per_scenario: list[CellFigures], alpha: float, tolerance: float
) -> tuple[str, list[str]]:
    """ "meets", "conservative" or "exploratory", with the figures that decided it.

    Exploratory: too many false positives, intervals that miss the truth too
    often, or no placebo to compare with. Conservative: fewer false positives
    or wider intervals than needed, and nothing worse; it keeps its error rate.
    """
    failures: list[str] = []
    cautions: list[str] = []
    null = next(f for f in per_scenario if f.scenario == "null")
    low, high = alpha - TARGET_REJECTION, alpha + TARGET_REJECTION
    if not null.has_p_value:
        _judge_reporting(per_scenario, alpha, tolerance, failures)
    elif not null.tests_ldn:
        failures.append(
            "no placebo comparison: the change includes placebo response and time, "
            f"p < {alpha:g} in {null.rejection:.1%} of trials where LDN does nothing"
        )
    elif null.trials:
        slack = tolerance * null.rejection_mcse
        rate = (
            f"p < {alpha:g} in {null.rejection:.1%} (MCSE {null.rejection_mcse:.1%}) of "
            f"trials where LDN does nothing; target {low:.1%}-{high:.1%}"
        )
        if null.rejection > high + slack:
            failures.append(rate)
        elif null.rejection < low - slack:
            cautions.append(rate + (" (an exact test on counts)" if null.exact_test else ""))
    for figures in per_scenario:
        if figures.trials == 0:
            failures.append(f"no trial could be analysed under {figures.scenario}")
            continue
        if figures.coverage is None:
            continue
        slack = tolerance * (figures.coverage_mcse or 0.0)
        lowest, highest = TARGET_COVERAGE
        covers = (
            f"95 % intervals cover the truth in {figures.coverage:.1%} "
            f"(MCSE {figures.coverage_mcse:.1%}) of {figures.scenario} trials; "
            f"target {lowest:.1%}-{highest:.1%}"
        )
        if figures.coverage < lowest - slack:
            failures.append(covers)
        elif figures.coverage > highest + slack:
            cautions.append(covers)
    if failures:
        return "exploratory", failures + cautions
    return ("conservative", cautions) if cautions else ("meets", [])


def _judge_reporting(
    per_scenario: list[CellFigures], alpha: float, tolerance: float, failures: list[str]
) -> None:
    """An estimate with no true value (no dose makes half respond) should not be reported:
    reporting one more often than alpha + 1.5 points is a false "yes"."""
    for figures in per_scenario:
        if figures.has_truth:
            continue
        slack = tolerance * figures.reported_mcse
        if figures.reported > alpha + TARGET_REJECTION + slack:
            failures.append(
                f"reported in {figures.reported:.1%} (MCSE {figures.reported_mcse:.1%}) of "
                f"{figures.scenario} trials, where no dose on the ladder gets there"
            )


def _figures_dict(figures: CellFigures) -> dict[str, Any]:
    keys = (
        "trials",
        "failed",
        "truth",
        "truth_se",
        "rejection",
        "rejection_mcse",
        "coverage",
        "coverage_mcse",
        "bias",
        "bias_mcse",
        "se_ratio",
        "se_ratio_mcse",
        "reported",
        "reported_mcse",
    )
    # A figure that cannot be measured (no true value, no trial analysed) is NaN here and
    # null in the JSON: the whole two-hour run once died writing a NaN at its very end.
    return {key: _finite_or_none(getattr(figures, key)) for key in keys}


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
