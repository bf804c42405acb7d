"""The patient's answer: did LDN lower *her* pain, by how much, and how sure can we be?

For one participant, the days of her LDN and placebo blocks are compared by
generalised least squares with AR(1) errors in study days (yesterday's pain
predicts today's), after leaving out the first ``run_in_days`` of every
block: LDN builds up slowly ("maximum benefit took about a month", Younger
& Mackey 2009 via Fibromyalgia Network 2009) and the previous block's effect
fades slowly, so those days measure neither condition (a wash-out by
analysis; Senn, Cross-over Trials in Clinical Research, 2002, §10). In an
N-of-1 trial with pairs of blocks, each pair gets its own level so that a
slow drift in pain is not mistaken for the drug.

The probability that LDN lowers her pain by a clinically meaningful amount
treats the estimate as normal around the truth (a flat prior): P = Phi((-M -
d) / se) for a difference ``d`` where lower is better. The default M is 10
points on a 0-100 scale, with 30 % less pain than on placebo reported beside
it: reductions of about 30 % are "much improved" for patients (Farrar et
al., Pain 2001;94:149-158) and moderately important (IMMPACT, Dworkin et
al., J Pain 2008;9:105-121).

Several N-of-1 trials pool into a population estimate with a normal-normal
hierarchical (random-effects) model fitted by REML; the share of patients
who benefit is the share of the fitted distribution of true effects beyond M.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ldntrial.errors import AnalysisError
from ldntrial.protocol.design import Comparison, Design
from ldntrial.protocol.model import Protocol, RandomisedPairs
from ldntrial.stats.daily_model import daily_frame
from ldntrial.stats.meta_analysis import random_effects
from ldntrial.stats.mixed import fit_mixed_model
from ldntrial.stats.nof1_priors import Posterior, posterior, priors_for
from ldntrial.stats.prepared import Analysable, prepare
from ldntrial.stats.results import AnalysisResult, estimates_frame, json_safe_dict
from ldntrial.vocab import ConditionKind

__all__ = [
    "Nof1Answer",
    "Nof1Spec",
    "Verdict",
    "answer_and_pool",
    "answer_every_participant",
    "answer_for_participant",
    "pair_of_period",
    "pool_nof1",
    "verdict_of",
]


RUN_IN_DAYS = 14
"""Days at the start of every block that measure neither condition (as the protocols' own
``[endpoints.daily_model]`` run-in)."""


def without_run_in(rows: pd.DataFrame, run_in_days: int = RUN_IN_DAYS) -> pd.DataFrame:
    """``rows`` without the first ``run_in_days`` of every treated period of each participant.

    LDN builds up over weeks and the previous condition fades as slowly, so the
    first days of a block belong to neither; untreated rows (period 0) are kept.
    """
    first_day = rows.groupby(["participant_id", "period"], observed=True)["study_day"].transform(
        "min"
    )
    keep = (rows["period"] == 0) | (rows["study_day"] >= first_day + run_in_days)
    return rows[keep.to_numpy()]


@dataclass(frozen=True)
class Nof1Spec:
    """What counts as meaningful, how sure is sure, and how long LDN needs to act."""

    meaningful_points: float = 10.0
    meaningful_percent: float = 30.0
    run_in_days: int = RUN_IN_DAYS
    decision_probability: float = 0.8
    min_days_per_condition: int = 7


class Verdict:
    """The three honest answers (strings so that they serialise as they read)."""

    HELPED = "likely_helped"
    NOT_MEANINGFUL = "likely_not_meaningful"
    CANNOT_TELL = "cannot_tell"


@dataclass(frozen=True)
class Nof1Answer:
    """One participant's answer: the numbers, the verdict and the paragraph to read."""

    participant_id: str
    result: AnalysisResult
    verdict: str
    probability_meaningful: float
    probability_percent: float
    paragraph: str
    days: pd.DataFrame = field(repr=False)
    posteriors: tuple[Posterior, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the result plus verdict, probabilities, paragraph and Bayesian answers."""
        return {
            **self.result.to_dict(),
            **json_safe_dict(
                {
                    "participant_id": self.participant_id,
                    "verdict": self.verdict,
                    "probability_meaningful": self.probability_meaningful,
                    "probability_percent": self.probability_percent,
                    "paragraph": self.paragraph,
                    "bayesian": [posterior.to_dict() for posterior in self.posteriors],
                }
            ),
        }

    def posterior(self, prior: str) -> Posterior | None:
        """Her answer under the prior named ``prior`` (evidence, sceptical, flat), if shown."""
        return next((p for p in self.posteriors if p.prior.name == prior), None)


def answer_for_participant(
    trial: Analysable, participant_id: str, spec: Nof1Spec | None = None, item: str | None = None
) -> Nof1Answer:
    """The LDN - placebo answer for ``participant_id`` (see the module docstring).

    ``item`` is the diary item compared, the protocol's primary item unless
    named (her report shows fatigue and sleep beside pain the same way). Several
    answers from one trial share its daily frame when given one prepared trial.
    """
    context = prepare(trial)
    trial = context.trial
    if participant_id not in set(trial.participants["participant_id"]):
        raise AnalysisError(f"no participant '{participant_id}' in this trial")
    item = item or trial.protocol.endpoints.primary_item
    if item not in {i.id for i in trial.protocol.diary.items}:
        raise AnalysisError(f"no diary item '{item}' in protocol {trial.protocol.id}")
    frame = context.frame(daily_frame, item, trial.protocol.comparison)
    mine = frame[frame["participant_id"] == participant_id]
    return _answer(trial.protocol, participant_id, mine, spec or Nof1Spec(), item)


def answer_every_participant(trial: Analysable, spec: Nof1Spec | None = None) -> list[Nof1Answer]:
    """:func:`answer_for_participant` for everyone, in participant order, from one daily frame."""
    context = prepare(trial)
    trial = context.trial
    protocol = trial.protocol
    item = protocol.endpoints.primary_item
    frame = context.frame(daily_frame, item, protocol.comparison)
    by_person = dict(tuple(frame.groupby("participant_id", observed=True, sort=False)))
    empty = frame.iloc[:0]
    return [
        _answer(protocol, pid, by_person.get(pid, empty), spec or Nof1Spec(), item)
        for pid in trial.participants["participant_id"]
    ]


def _answer(
    protocol: Protocol, participant_id: str, mine: pd.DataFrame, spec: Nof1Spec, item: str
) -> Nof1Answer:
    comparison = protocol.comparison
    higher_is_better = protocol.diary_item(item).higher_is_better
    analysed = without_run_in(mine.sort_values("study_day"), spec.run_in_days).copy()
    counts = analysed.groupby("treated").size()
    on, off = int(counts.get(True, 0)), int(counts.get(False, 0))
    label, comparator = _labels(protocol, comparison)
    if min(on, off) < spec.min_days_per_condition:
        return _too_little(participant_id, analysed, spec, on, off, label, comparator, item)
    X, names = _design(analysed, protocol, comparison.treatment)
    fit = fit_mixed_model(
        analysed["value"].to_numpy(dtype=float),
        X,
        names,
        np.zeros(len(analysed)),
        days=analysed["study_day"].to_numpy(),
        autocorrelation=True,
        random_intercept=False,
    )
    table = fit.table()
    row = table[table["term"] == f"condition[{comparison.treatment}]"].iloc[0]
    difference, se = float(row["estimate"]), float(row["std_error"])
    comparator_mean = float(analysed.loc[~analysed["treated"], "value"].mean())
    treatment_mean = float(analysed.loc[analysed["treated"], "value"].mean())
    sign = 1.0 if higher_is_better else -1.0  # benefit = sign x difference
    benefit = sign * difference
    p_points = float(stats.norm.sf((spec.meaningful_points - benefit) / se))
    relative_threshold = (
        spec.meaningful_percent
        / 100
        * ((100 - comparator_mean) if higher_is_better else comparator_mean)
    )
    p_percent = float(stats.norm.sf((relative_threshold - benefit) / se))
    verdict = verdict_of(p_points, spec)
    posteriors = tuple(
        posterior(
            benefit,
            se,
            prior,
            meaningful_points=spec.meaningful_points,
            relative_threshold=relative_threshold,
        )
        for prior in priors_for(
            item,
            spec.meaningful_points,
            against_placebo=comparison.comparator is not None and not comparison.dose_comparison,
        )
    )
    result = AnalysisResult(
        name="nof1",
        title=f"{participant_id}: {item} on {label} vs {comparator}",
        n=1,
        definition=(
            f"Difference in mean daily {item}, {label} minus {comparator}, leaving out the "
            f"first {spec.run_in_days} days of every block; meaningful = at least "
            f"{spec.meaningful_points:g} points better (also reported: "
            f"{spec.meaningful_percent:g} % of the {comparator} level)"
        ),
        method=(
            "Generalised least squares with AR(1) errors in study days (REML)"
            + (", a level per pair of blocks" if len(names) > 2 else "")
            + "; probability of a meaningful benefit from the normal approximation with a "
            "flat prior"
        ),
        formula="value ~ condition" + (" + pair" if len(names) > 2 else "") + ", AR(1) days",
        estimates=estimates_frame(
            [r for r in table.to_dict(orient="records") if r["term"] != "Intercept"]
        ),
        missing_data=(
            "Missing days are left out; the AR(1) correlation uses the true gap in days."
        ),
        assumptions=(
            f"LDN has reached its effect, and the previous block's has faded, after "
            f"{spec.run_in_days} days",
            "Pain would otherwise be stable, apart from a shift between pairs of blocks",
        ),
        values={
            "days_on_treatment": on,
            "days_on_comparator": off,
            "treatment_mean": treatment_mean,
            "comparator_mean": comparator_mean,
            "rho": fit.rho,
            "probability_meaningful": p_points,
            "probability_percent": p_percent,
            "verdict": verdict,
            "bayesian": [answer.to_dict() for answer in posteriors],
        },
    )
    paragraph = _paragraph(
        item,
        label,
        comparator,
        treatment_mean,
        comparator_mean,
        row,
        p_points,
        p_percent,
        verdict,
        spec,
        higher_is_better,
        next((p for p in posteriors if p.prior.name == "evidence"), None),
    )
    return Nof1Answer(
        participant_id, result, verdict, p_points, p_percent, paragraph, analysed, posteriors
    )


def _labels(protocol: Protocol, comparison: Comparison) -> tuple[str, str]:
    """How the two conditions read in her answer: LDN and placebo, or the two doses."""
    if comparison.dose_comparison:
        named = {key: c.label or key for key, c in protocol.conditions.items()}
        return named[comparison.treatment], named[str(comparison.comparator)]
    return "LDN", "placebo" if comparison.comparator else "baseline (no capsules)"


def _design(rows: pd.DataFrame, protocol: Protocol, label: str) -> tuple[np.ndarray, list[str]]:
    columns = [np.ones(len(rows)), rows["treated"].to_numpy(dtype=float)]
    names = ["Intercept", f"condition[{label}]"]
    if protocol.design == Design.NOF1:
        pair = pair_of_period(protocol, rows["period"].to_numpy())
        for level in sorted(set(pair))[1:]:
            columns.append((pair == level).astype(float))
            names.append(f"pair[{level}]")
    return np.column_stack(columns), names


def pair_of_period(protocol: Protocol, period: np.ndarray) -> np.ndarray:
    """The pair of blocks each treated period belongs to (1, 2, ...) in an N-of-1 design.

    Periods count every block on capsules, an open titration before the pairs too.
    """
    allocation = protocol.allocation
    lead_in = sum(
        protocol.conditions[protocol.phase(name).condition].kind != ConditionKind.NONE
        for name in (allocation.lead_in if isinstance(allocation, RandomisedPairs) else ())
    )
    return np.asarray((period.astype(int) - lead_in + 1) // 2)


def verdict_of(probability: float, spec: Nof1Spec) -> str:
    """The verdict a probability of a meaningful benefit gives: sure enough either way, or not."""
    if probability >= spec.decision_probability:
        return Verdict.HELPED
    if probability <= 1 - spec.decision_probability:
        return Verdict.NOT_MEANINGFUL
    return Verdict.CANNOT_TELL


def _paragraph(
    item: str,
    label: str,
    comparator: str,
    treatment_mean: float,
    comparator_mean: float,
    row: pd.Series,
    p_points: float,
    p_percent: float,
    verdict: str,
    spec: Nof1Spec,
    higher_is_better: bool,
    informed: Posterior | None = None,
) -> str:
    direction = "higher" if higher_is_better else "lower"
    opening = (
        f"On {label} your average {item} rating was {treatment_mean:.0f} out of 100; on "
        f"{comparator} it was {comparator_mean:.0f}. The difference is {row['estimate']:+.1f} "
        f"points (95 % interval {row['ci_lower']:+.1f} to {row['ci_upper']:+.1f}). "
        f"The chance that {label} makes your {item} at least {spec.meaningful_points:g} points "
        f"{direction} is {p_points:.0%} (at least {spec.meaningful_percent:g} % better: "
        f"{p_percent:.0%})."
    )
    verdicts = {
        Verdict.HELPED: f"So {label} probably helped you by an amount that matters.",
        Verdict.NOT_MEANINGFUL: (
            f"So {label} probably did not help you by an amount that matters."
        ),
        Verdict.CANNOT_TELL: (
            "So we cannot tell yet whether it helps you: more blocks would narrow the interval."
        ),
    }
    if informed is not None:
        verdicts[verdict] += (
            f" Taking into account that {informed.prior.plain}, the chance of at least "
            f"{spec.meaningful_points:g} points is {informed.probability_meaningful:.0%}."
        )
    closing = (
        " This is a summary of your own diary to discuss with your doctor, not a "
        "prescription; it assumes the first "
        f"{spec.run_in_days} days of each block were enough for LDN to start and stop working."
    )
    return f"{opening} {verdicts[verdict]}{closing}"


def _too_little(
    participant_id: str,
    analysed: pd.DataFrame,
    spec: Nof1Spec,
    on: int,
    off: int,
    label: str,
    comparator: str,
    item: str,
) -> Nof1Answer:
    paragraph = (
        f"There are {on} usable days on {label} and {off} on {comparator} after leaving out "
        f"the first {spec.run_in_days} days of each block; at least "
        f"{spec.min_days_per_condition} of each are needed. We cannot tell yet whether "
        f"{label} helps you. This is a summary to discuss with your doctor, not a prescription."
    )
    result = AnalysisResult(
        name="nof1",
        title=f"{participant_id}: {item} on {label} vs {comparator}",
        n=1,
        definition="Not enough days to compare",
        method="None (too few days)",
        estimates=estimates_frame([]),
        values={"days_on_treatment": on, "days_on_comparator": off},
        warnings=("too few diary days to compare the conditions",),
    )
    return Nof1Answer(
        participant_id, result, Verdict.CANNOT_TELL, math.nan, math.nan, paragraph, analysed
    )


def answer_and_pool(
    trial: Analysable, spec: Nof1Spec | None = None
) -> tuple[list[Nof1Answer], AnalysisResult | None]:
    """Every participant's answer and, with two or more estimates, their pooled estimate."""
    spec = spec or Nof1Spec()
    answers = answer_every_participant(trial, spec)
    trial = prepare(trial).trial
    term = f"condition[{trial.protocol.comparison.treatment}]"
    rows = [a.result.term(term) for a in answers if len(a.result.estimates)]
    if len(rows) < 2:
        return answers, None
    item = trial.protocol.endpoints.primary_item
    higher = trial.protocol.diary_item(item).higher_is_better
    pooled = pool_nof1(
        np.array([r["estimate"] for r in rows]),
        np.array([r["std_error"] for r in rows]),
        meaningful=spec.meaningful_points,
        lower_is_better=not higher,
    )
    return answers, pooled


def pool_nof1(
    estimates: np.ndarray,
    std_errors: np.ndarray,
    *,
    meaningful: float = 10.0,
    lower_is_better: bool = True,
) -> AnalysisResult:
    """Random-effects pooling of per-patient differences (REML for the spread tau).

    Returns an :class:`AnalysisResult` with terms ``population mean`` (with
    its 95 % CI) and ``tau`` (SD of true effects between patients), and values
    ``share_benefiting`` (fitted share whose true effect is at least
    ``meaningful`` better), ``prediction_lower/upper`` (95 % range for a new
    patient) and ``shrunken`` per-patient estimates.
    """
    d = np.asarray(estimates, dtype=float)
    errors = np.asarray(std_errors, dtype=float)
    keep = np.isfinite(d) & np.isfinite(errors) & (errors > 0)
    d, errors = d[keep], errors[keep]
    k = len(d)
    if k < 2:
        raise AnalysisError(f"pooling needs at least 2 patients with an estimate, not {k}")
    # The variance never below the model's (hksj_floor): with a handful of patients who
    # happen to agree, plain HKSJ gives intervals narrower than their own errors allow.
    pooled = random_effects(d, errors, hksj_floor=True)
    mu, se, tau2 = pooled.estimate, pooled.std_error, pooled.tau2
    tau = pooled.tau
    sign = -1.0 if lower_is_better else 1.0
    if tau > 0:
        share = float(stats.norm.sf((meaningful - sign * mu) / tau))
    else:
        share = float(sign * mu >= meaningful)
    shrunken = mu + tau2 / (tau2 + errors**2) * (d - mu)
    return AnalysisResult(
        name="nof1_pooled",
        title="N-of-1 series pooled",
        n=k,
        definition=(
            "Per-patient LDN - placebo differences (each over the days after every block's "
            "run-in) pooled into a population mean: the average such difference over patients "
            "like these"
        ),
        method=(
            "Normal-normal random-effects model, REML for tau^2; 95 % CI and p-value by "
            "Hartung-Knapp-Sidik-Jonkman (t on k - 1 df, variance never below the model's); "
            "prediction interval for a new patient on k - 2 df"
        ),
        estimates=estimates_frame(
            [
                {
                    "term": "population mean",
                    "estimate": mu,
                    "std_error": se,
                    "ci_lower": pooled.ci_lower,
                    "ci_upper": pooled.ci_upper,
                    "p_value": pooled.p_value,
                    "df": float(k - 1),
                },
                {"term": "tau", "estimate": tau},
            ]
        ),
        assumptions=("True patient effects are normal around the population mean",),
        values={
            "share_benefiting": share,
            "meaningful": meaningful,
            "prediction_lower": pooled.prediction_lower,
            "prediction_upper": pooled.prediction_upper,
            "shrunken": shrunken.tolist(),
        },
    )
