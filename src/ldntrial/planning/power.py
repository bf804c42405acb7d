"""Power from the protocol: simulate the trial many times and analyse each as pre-specified.

A randomised or single-arm trial *succeeds* when its pre-specified primary
analysis (:func:`~ldntrial.stats.primary.analyse_endpoint`) favours LDN at
two-sided ``alpha``: the paired % improvement difference for a crossover, the
ANCOVA condition term for a parallel trial, % improvement against no change
for a single-arm study. Power at a sample size is the share of simulated
trials that succeed, with a Clopper-Pearson 95 % interval for the
Monte-Carlo error (Morris, White & Crowther, Stat Med 2019;38:2074-2102,
on reporting simulation studies). A chunk of trials is simulated as diary
arrays and its primary terms computed together
(:func:`~ldntrial.stats.primary.primary_terms`, equal to the full analysis').

For an N-of-1 protocol the question is one patient's: how often does her
trial reach the right conclusion? Each simulated patient's verdict (that of
:func:`~ldntrial.stats.nof1.answer_every_participant`, found for a chunk of
patients together by :func:`~ldntrial.stats.nof1_batch.nof1_verdicts`) is checked against
her true steady-state effect from the simulator: "likely helped" is right
when LDN truly lowers her pain by at least the meaningful amount, "likely
not meaningful" when it does not; "cannot tell" is neither right nor wrong
and is reported beside them. The number of block pairs is varied.

Every chunk of simulated trials has its own seed derived from (seed, size,
chunk) by NumPy's SeedSequence, so the figures are the same whatever the
number of worker processes or of machines in a Dask cluster.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ldntrial.errors import AnalysisError
from ldntrial.protocol.design import Design, top_dose_mg
from ldntrial.protocol.loader import load_protocol, protocol_from_dict
from ldntrial.protocol.model import Protocol
from ldntrial.simulate import simulate_diaries, simulate_trial
from ldntrial.simulate.outcomes import dose_factor
from ldntrial.simulate.scenarios import Scenario, get_scenario
from ldntrial.stats.chunks import run_chunks
from ldntrial.stats.dose_finding import analyse_dose_finding
from ldntrial.stats.endpoints import endpoint_arrays
from ldntrial.stats.nof1 import Nof1Spec, Verdict
from ldntrial.stats.nof1_batch import nof1_verdicts
from ldntrial.stats.primary import primary_terms
from ldntrial.stats.results import json_safe_dict

__all__ = ["PowerResult", "estimate_power"]

CHUNK = 25
"""Simulated trials (or N-of-1 patients) per unit of work handed to a worker."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PowerResult:
    """Power (or, for N-of-1, the chance of a right answer) per size, with its method."""

    protocol_id: str
    design: str
    scenario: str
    size_label: str  # "n" (participants) or "pairs" (N-of-1 block pairs)
    sims: int
    seed: int
    alpha: float
    criterion: str
    table: pd.DataFrame
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: settings, criterion and one row per size."""
        return json_safe_dict(
            {
                "protocol": self.protocol_id,
                "design": self.design,
                "scenario": self.scenario,
                "size": self.size_label,
                "sims": self.sims,
                "seed": self.seed,
                "alpha": self.alpha,
                "criterion": self.criterion,
                "rows": self.table,
                "warnings": list(self.warnings),
            }
        )

    @property
    def rate_column(self) -> str:
        """The column the curve shows: power, the share of right answers, or (dose finding)
        the share of trials that estimate ED50 with an interval."""
        if self.design == Design.DOSE_FINDING:
            return "estimated"
        return "p_correct" if self.size_label == "pairs" else "power"


def estimate_power(
    protocol: Protocol | str,
    *,
    sizes: Sequence[int],
    sims: int,
    seed: int,
    scenario: str | Scenario = "stanford",
    overrides: dict[str, Any] | None = None,
    alpha: float = 0.05,
    nof1_spec: Nof1Spec | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    dask_scheduler: str | None = None,
) -> PowerResult:
    """Simulate ``sims`` trials per size in ``sizes`` and analyse each as the protocol says.

    ``sizes`` are numbers of participants, or of block pairs for an N-of-1
    protocol (where ``sims`` is the number of simulated patients per size).
    ``workers`` > 1 runs chunks in that many processes, started by "spawn"
    (so a script calling this must do so under ``if __name__ == "__main__":``);
    the figures do not change with it. ``dask_scheduler`` (an address such as
    ``tcp://10.0.0.5:8786``) runs the chunks on that Dask cluster instead, for
    grids that outgrow one machine; the figures are the same again, since
    every chunk has its own seed. ``progress(done, total)`` is called as
    chunks of trials finish.
    """
    protocol = load_protocol(protocol)
    design = protocol.design
    nof1 = design == Design.NOF1
    _check_settings(sizes, sims, alpha, nof1)
    spec = nof1_spec or Nof1Spec()
    scenario_name = scenario if isinstance(scenario, str) else scenario.name
    # An N-of-1 protocol per number of pairs, validated once (not once per chunk).
    protocols = {size: _with_pairs(protocol, size) if nof1 else protocol for size in sizes}
    tasks = [
        _Task(
            protocol=protocols[size],
            size=size,
            count=min(CHUNK, sims - start),
            seed=_chunk_seed(seed, size, start),
            scenario=scenario,
            overrides=overrides or {},
            alpha=alpha,
            spec=spec,
        )
        for size in sizes
        for start in range(0, sims, CHUNK)
    ]
    outcomes = run_chunks(
        _run_task,
        tasks,
        [task.count for task in tasks],
        workers,
        progress or (lambda done, total: None),
        dask_scheduler=dask_scheduler,
    )
    frame = pd.DataFrame([row for rows in outcomes for row in rows])
    if nof1:
        table = _nof1_table(frame, sizes)
    elif design == Design.DOSE_FINDING:
        table = _dose_finding_table(frame, sizes)
    else:
        table = _trial_table(frame, sizes)
    return PowerResult(
        protocol_id=protocol.id,
        design=str(design),
        scenario=scenario_name,
        size_label="pairs" if nof1 else "n",
        sims=sims,
        seed=seed,
        alpha=alpha,
        criterion=_criterion(protocol, design, alpha, spec),
        table=table,
        warnings=_warnings(design),
    )


def _check_settings(sizes: Sequence[int], sims: int, alpha: float, nof1: bool) -> None:
    if not sizes:
        raise AnalysisError("sizes: give at least one sample size")
    smallest = 1 if nof1 else 2
    bad = [size for size in sizes if size < smallest]
    if bad:
        what = "block pairs" if nof1 else "participants"
        raise AnalysisError(f"sizes: {bad[0]} {what} is too few; at least {smallest} are needed")
    if nof1 and max(sizes) > 12:
        raise AnalysisError("sizes: an N-of-1 protocol allows at most 12 block pairs")
    if sims < 1:
        raise AnalysisError(f"sims: must be at least 1, got {sims}")
    if not 0 < alpha < 1:
        raise AnalysisError(f"alpha: must be between 0 and 1, got {alpha}")


def _with_pairs(protocol: Protocol, pairs: int) -> Protocol:
    data = protocol.model_dump(mode="json", exclude_none=True)
    data["allocation"]["pairs"] = pairs
    return protocol_from_dict(data, source=f"{protocol.id} with {pairs} pairs")


def _chunk_seed(seed: int, size: int, start: int) -> int:
    return int(np.random.SeedSequence([seed, size, start]).generate_state(1, dtype=np.uint64)[0])


# -- the work, in chunks -----------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    protocol: Protocol
    size: int
    count: int
    seed: int
    scenario: str | Scenario
    overrides: dict[str, Any]
    alpha: float
    spec: Nof1Spec


def _run_task(task: _Task) -> list[dict[str, Any]]:
    design = task.protocol.design
    if design == Design.NOF1:
        return _nof1_patients(task)
    draws = np.random.default_rng(task.seed).integers(2**62, size=task.count)
    seeds = [int(seed) for seed in draws]
    if design == Design.DOSE_FINDING:
        return [_one_dose_finding(task, seed) for seed in seeds]
    return _trials(task, seeds)


def _trials(task: _Task, seeds: Sequence[int]) -> list[dict[str, Any]]:
    """Simulate a chunk of trials as arrays and test all their primary terms at once."""
    endpoints = [
        endpoint_arrays(
            simulate_diaries(
                task.protocol,
                n=task.size,
                seed=seed,
                scenario=task.scenario,
                overrides=task.overrides,
            )
        )
        for seed in seeds
    ]
    terms = primary_terms(task.protocol, endpoints)
    sign = _favourable_sign(task.protocol)
    return [
        {
            "size": task.size,
            "estimate": float(estimate),
            "analysed": bool(np.isfinite(p_value)),
            "success": bool(np.isfinite(p_value) and p_value < task.alpha and sign * estimate > 0),
        }
        for estimate, p_value in zip(terms.estimate, terms.p_value, strict=True)
    ]


ED50_TERM = "ED50 (mg), centred isotonic"


def _one_dose_finding(task: _Task, seed: int) -> dict[str, Any]:
    """One up-and-down study: how many it enrolled, its ED50 and the interval's width."""
    trial = simulate_trial(
        task.protocol,
        n=task.size,
        seed=seed,
        scenario=task.scenario,
        overrides=task.overrides,
        tables=("participants", "diary"),
    )
    row = analyse_dose_finding(trial, seed=seed % 2**32).term(ED50_TERM)
    estimate, low, high = (float(row[key]) for key in ("estimate", "ci_lower", "ci_upper"))
    return {
        "size": task.size,
        "enrolled": len(trial.participants),
        "estimate": estimate,
        "width": high - low,
        "estimated": math.isfinite(high - low),
    }


def _dose_finding_table(frame: pd.DataFrame, sizes: Sequence[int]) -> pd.DataFrame:
    rows = []
    for size in sizes:
        mine = frame[frame["size"] == size]
        estimated, trials = int(mine["estimated"].sum()), len(mine)
        low, high = _clopper_pearson(estimated, trials)
        rows.append(
            {
                "n": size,
                "trials": trials,
                "mean_enrolled": float(mine["enrolled"].mean()),
                "estimated": estimated / trials,
                "ci_lower": low,
                "ci_upper": high,
                "mean_ed50": float(mine["estimate"].mean()),
                "sd_ed50": float(mine["estimate"].std(ddof=1)) if trials > 1 else math.nan,
                "median_width": float(mine["width"].median()),
            }
        )
    return pd.DataFrame(rows)


def _nof1_patients(task: _Task) -> list[dict[str, Any]]:
    """A chunk of simulated patients as arrays, their verdicts found together, each checked
    against her true steady-state benefit in points (outcomes.ratings)."""
    diaries = simulate_diaries(
        task.protocol,
        n=task.count,
        seed=task.seed,
        scenario=task.scenario,
        overrides=task.overrides,
    )
    verdicts = nof1_verdicts(diaries, task.spec).verdict
    benefit = diaries.truth["primary_level"] * diaries.truth["ldn_effect"] * _contrast(task)
    meaningful = benefit >= task.spec.meaningful_points
    return [
        {
            "size": task.size,
            "truly_meaningful": bool(truly),
            "verdict": verdict,
            "correct": (verdict == Verdict.HELPED and truly)
            or (verdict == Verdict.NOT_MEANINGFUL and not truly),
        }
        for verdict, truly in zip(verdicts, meaningful, strict=True)
    ]


def _contrast(task: _Task) -> float:
    """The share of a woman's LDN effect (at the reference dose) that the comparison sees.

    1 against placebo at the reference dose; for two doses, the difference of
    their Emax fractions (outcomes.dose_factor), so a dose comparison's truth
    is the difference between the doses, not LDN against placebo.
    """
    comparison = task.protocol.comparison
    scenario = get_scenario(task.scenario).model_copy(update=task.overrides)
    doses = [top_dose_mg(task.protocol, comparison.treatment)]
    if comparison.dose_comparison:
        doses.append(top_dose_mg(task.protocol, str(comparison.comparator)))
    factors = dose_factor(np.array(doses), scenario)
    return float(factors[0] - (factors[1] if len(factors) > 1 else 0.0))


def _favourable_sign(protocol: Protocol) -> float:
    """+1 when a positive estimate favours LDN (% improvement), -1 when a negative one does."""
    if protocol.design != Design.PARALLEL:
        return 1.0
    item = protocol.endpoints.primary_item
    higher_is_better = protocol.diary_item(item).higher_is_better
    return 1.0 if higher_is_better else -1.0  # ANCOVA term: change in rating points


# -- tables and words ------------------------------------------------------------


def _clopper_pearson(successes: int, trials: int) -> tuple[float, float]:
    if trials == 0:
        return math.nan, math.nan
    interval = stats.binomtest(successes, trials).proportion_ci(method="exact")
    return float(interval.low), float(interval.high)


def _trial_table(frame: pd.DataFrame, sizes: Sequence[int]) -> pd.DataFrame:
    rows = []
    for size in sizes:
        mine = frame[frame["size"] == size]
        successes, trials = int(mine["success"].sum()), len(mine)
        low, high = _clopper_pearson(successes, trials)
        rows.append(
            {
                "n": size,
                "trials": trials,
                "analysed": int(mine["analysed"].sum()),
                "successes": successes,
                "power": successes / trials,
                "ci_lower": low,
                "ci_upper": high,
                "mean_estimate": float(mine["estimate"].mean()),
            }
        )
    return pd.DataFrame(rows)


def _nof1_table(frame: pd.DataFrame, sizes: Sequence[int]) -> pd.DataFrame:
    rows = []
    for size in sizes:
        mine = frame[frame["size"] == size]
        patients = len(mine)
        correct = int(mine["correct"].sum())
        undecided = int((mine["verdict"] == Verdict.CANNOT_TELL).sum())
        low, high = _clopper_pearson(correct, patients)
        rows.append(
            {
                "pairs": size,
                "patients": patients,
                "correct": correct,
                "wrong": patients - correct - undecided,
                "cannot_tell": undecided,
                "p_correct": correct / patients,
                "ci_lower": low,
                "ci_upper": high,
                "p_cannot_tell": undecided / patients,
                "share_truly_meaningful": float(mine["truly_meaningful"].mean()),
            }
        )
    return pd.DataFrame(rows)


def _criterion(protocol: Protocol, design: Design, alpha: float, spec: Nof1Spec) -> str:
    item = protocol.endpoints.primary_item
    comparison = protocol.comparison
    if design == Design.DOSE_FINDING:
        return (
            "the precision of ED50 (the dose at which half respond): the share of studies "
            "whose centred isotonic ED50 has a 95 % bootstrap interval, the SD of ED50 over "
            "studies and the interval's median width; n is the most enrolled, the stopping "
            "rule may end a study sooner"
        )
    if design == Design.NOF1:
        return (
            f"a patient's answer is correct when 'likely helped' meets a true steady-state "
            f"benefit of at least {spec.meaningful_points:g} points in {item}, or 'likely not "
            f"meaningful' meets a smaller one (decision probability "
            f"{spec.decision_probability:g}); 'cannot tell' is counted apart"
        )
    if design == Design.PARALLEL:
        test = f"ANCOVA of change in {item}, {comparison.treatment} vs {comparison.comparator}"
    elif comparison.comparator is None:
        test = f"one-sample t-test of % improvement in {item} on {comparison.treatment}"
    else:
        test = (
            f"paired t-test of % improvement in {item}, "
            f"{comparison.treatment} vs {comparison.comparator}"
        )
    return f"two-sided p < {alpha:g} in LDN's favour, {test} (the pre-specified primary analysis)"


def _warnings(design: Design) -> tuple[str, ...]:
    if design == Design.DOSE_FINDING:
        return (
            "no placebo: a response includes the placebo response; in the simulator about "
            "1 in 7 women respond with no LDN effect at all (simulate.dose_response)",
        )
    if design == Design.SINGLE_ARM:
        return (
            "no placebo comparison: this is the power to see improvement from baseline, "
            "which includes the placebo response, not evidence that LDN works",
        )
    if design == Design.FIXED_ORDER:
        return ("fixed order: the difference also contains any change over time",)
    return ()
