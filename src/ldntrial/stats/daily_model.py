"""The daily mixed model: LDN against placebo (or baseline) on each condition's settled days.

``value ~ condition + period + (1 + condition | participant)``, AR(1) days,
fitted by REML on the days the protocol's ``[endpoints.daily_model]``
compares: the final days of each condition after its run-in (see
:func:`~ldntrial.protocol.windows.daily_comparison_days`). The
``condition`` term is mean rating on LDN minus on the comparator over those
windows, so for pain a negative estimate is less pain on LDN.

Why not every day with a random intercept, as before: under a null
crossover-2013 that model said "p < 0.05" in about 45 % of simulated trials
(issue 14). Its days were counted as independent women, each woman's own
response to the capsules was ignored, LDN's build-up days were mixed in, and
an 84-day LDN phase was compared with a 28-day placebo phase while the
placebo response itself was still building. The variant with a
``sequence`` term is the carry-over check of a crossover (Grizzle 1965;
Senn, Cross-over Trials in Clinical Research, 2nd ed., 2002, ch. 3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ldntrial.data.trialdata import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.protocol.design import Comparison, Design
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.schedule import plan_sequence
from ldntrial.protocol.windows import daily_comparison_days, daily_window_days
from ldntrial.stats.frames import mapped
from ldntrial.stats.mixed import MixedFit, fit_mixed_model
from ldntrial.stats.prepared import Analysable, prepare
from ldntrial.stats.results import AnalysisResult

__all__ = [
    "compared_diary_rows",
    "comparison_frame",
    "daily_frame",
    "design_columns",
    "fit_daily_model",
    "on_compared_days",
]

MISSING_DAYS = (
    "Every recorded day of the compared windows is used and missing days are left out, "
    "which is unbiased when days are missing at random given the model (MAR); a "
    "participant who withdrew contributes the days she reported."
)


def daily_frame(trial: TrialData, item: str, comparison: Comparison) -> pd.DataFrame:
    """Rows of ``item`` on the compared conditions: participant, sequence, day, period, value."""
    if trial.blinded:
        raise AnalysisError("the daily model needs unblinded data (the condition is masked)")
    diary = trial.diary
    rows = diary[diary["item"] == item]
    if rows.empty:
        raise AnalysisError(f"the diary has no entries for item '{item}'")
    on_treatment = rows["condition"] == comparison.treatment
    if comparison.comparator is not None:
        on_comparator = rows["condition"] == comparison.comparator
    else:
        on_comparator = rows["phase"] == comparison.baseline_phase
    kept = rows[on_treatment | on_comparator]
    people = trial.participants
    sequence = dict(zip(people["participant_id"], people["sequence"], strict=True))
    return pd.DataFrame(
        {
            "participant_id": kept["participant_id"].to_numpy()
            if not isinstance(kept["participant_id"].dtype, pd.CategoricalDtype)
            else kept["participant_id"].array,
            "sequence": mapped(kept["participant_id"], sequence),
            "study_day": kept["study_day"].to_numpy(),
            "period": kept["period"].to_numpy(),
            "treated": on_treatment[on_treatment | on_comparator].to_numpy(),
            "value": kept["value"].to_numpy(),
        }
    )


def design_columns(
    frame: pd.DataFrame, comparison: Comparison, *, sequence_term: bool = False
) -> tuple[np.ndarray, list[str], list[str]]:
    """Treatment-coded design: intercept, condition, period (and sequence) dummies.

    Columns that the others already determine (period in a fixed order or a
    single-arm study) are dropped and named in the returned warnings list.
    """
    columns = [np.ones(len(frame)), frame["treated"].to_numpy(dtype=float)]
    names = ["Intercept", f"condition[{comparison.treatment}]"]
    periods = sorted(set(frame["period"]))
    for period in periods[1:]:
        columns.append((frame["period"] == period).to_numpy(dtype=float))
        names.append(f"period[{period}]")
    if sequence_term:
        for sequence in sorted(set(frame["sequence"]))[1:]:
            columns.append((frame["sequence"] == sequence).to_numpy(dtype=float))
            names.append(f"sequence[{sequence}]")
    X = np.column_stack(columns)
    kept, dropped = _estimable(X)
    warnings = [
        f"{names[j]} cannot be separated from the terms before it in these data and was "
        "dropped; the condition estimate then includes any change over time"
        for j in dropped
    ]
    return X[:, kept], [names[j] for j in kept], warnings


def _estimable(X: np.ndarray) -> tuple[list[int], list[int]]:
    """Columns kept left to right while each adds rank (like R's lm dropping aliased terms)."""
    gram = X.T @ X
    kept: list[int] = []
    dropped: list[int] = []
    for j in range(X.shape[1]):
        trial = [*kept, j]
        sub = gram[np.ix_(trial, trial)]
        scale = np.sqrt(np.diag(sub))
        correlation = sub / np.outer(scale, scale) if np.all(scale > 0) else sub
        if np.all(scale > 0) and np.linalg.matrix_rank(correlation, tol=1e-9) == len(trial):
            kept.append(j)
        else:
            dropped.append(j)
    return kept, dropped


def on_compared_days(trial: TrialData, rows: pd.DataFrame) -> np.ndarray:
    """Which diary ``rows`` fall on the days the protocol's daily model compares.

    The settled final window of each condition and the baseline window
    (:func:`~ldntrial.protocol.windows.daily_comparison_days`), by each
    participant's sequence; a day past the end of her plan is not compared.
    """
    protocol = trial.protocol
    people = trial.participants
    sequence_of = dict(zip(people["participant_id"], people["sequence"], strict=True))
    sequences = mapped(rows["participant_id"], sequence_of)
    day = rows["study_day"].to_numpy()
    keep = np.zeros(len(rows), dtype=bool)
    for sequence in pd.unique(sequences):
        compared = daily_comparison_days(protocol, plan_sequence(protocol, sequence, dose_mg=0.0))
        mine = np.flatnonzero(sequences == sequence)
        inside = (day[mine] >= 1) & (day[mine] <= len(compared))
        keep[mine[inside]] = compared[day[mine][inside] - 1]
    return keep


def comparison_frame(trial: TrialData, item: str, comparison: Comparison) -> pd.DataFrame:
    """:func:`daily_frame` restricted to the days the protocol's daily model compares."""
    frame = daily_frame(trial, item, comparison)
    return frame[on_compared_days(trial, frame)].reset_index(drop=True)


def compared_diary_rows(trial: TrialData, item: str) -> pd.DataFrame:
    """The diary rows of ``item`` on the days the daily model compares, every condition."""
    rows = trial.diary[trial.diary["item"] == item]
    return rows[on_compared_days(trial, rows)]


def fit_daily_model(
    trial: Analysable, item: str | None = None, *, sequence_term: bool = False
) -> AnalysisResult:
    """The protocol's daily model of ``item`` (default: the primary item).

    Returns an :class:`AnalysisResult` whose terms are ``Intercept``,
    ``condition[<ldn>]`` (LDN minus comparator), ``period[k]`` and, with
    ``sequence_term``, ``sequence[s]``; values hold ``sigma2`` (day-to-day
    variance), ``tau2`` (between-participant variance of the level),
    ``own_effect_variance`` (between-participant variance of the LDN effect),
    ``rho`` (lag-1 correlation) and ``reml_criterion``.
    """
    context = prepare(trial)
    protocol = context.protocol
    item = item or protocol.endpoints.primary_item
    comparison = protocol.comparison
    specification = protocol.endpoints.daily_model
    frame = context.frame(comparison_frame, item, comparison)
    if frame.empty:
        raise AnalysisError(f"no diary entries of '{item}' fall in the compared windows")
    X, names, warnings = design_columns(frame, comparison, sequence_term=sequence_term)
    one_person = frame["participant_id"].nunique() == 1
    own_effects = specification.own_effects and _effects_vary(frame, protocol.design)
    if one_person:
        warnings.append("one participant: her own days only, no level or effect across people")
    elif specification.own_effects and not own_effects:
        warnings.append(
            "each participant's own LDN effect cannot be told apart in this design "
            "(fewer than two participants saw both conditions); one effect is fitted for all"
        )
    fit = fit_mixed_model(
        frame["value"].to_numpy(dtype=float),
        X,
        names,
        frame["participant_id"],
        days=frame["study_day"].to_numpy(),
        autocorrelation=specification.autocorrelation,
        random_intercept=not one_person,
        random_slope=names[1] if own_effects else None,
    )
    return _result(item, protocol, comparison, fit, names, sequence_term, warnings)


def _effects_vary(frame: pd.DataFrame, design: Design) -> bool:
    """Whether the design shows each woman's own effect: two or more saw both conditions."""
    if design == Design.PARALLEL:
        return False
    both = frame.groupby("participant_id", observed=True)["treated"].nunique()
    return int((both == 2).sum()) >= 2


def _result(
    item: str,
    protocol: Protocol,
    comparison: Comparison,
    fit: MixedFit,
    names: list[str],
    sequence_term: bool,
    warnings: list[str],
) -> AnalysisResult:
    specification = protocol.endpoints.daily_model
    window = daily_window_days(protocol)
    own = fit.slope_variance is not None
    random_part = "(1 + condition | participant)" if own else "(1 | participant)"
    terms = " + ".join(["condition", *(["period"] if any("period" in n for n in names) else [])])
    if sequence_term:
        terms += " + sequence"
    formula = f"value ~ {terms} + {random_part}"
    if specification.autocorrelation:
        formula += ", AR(1) residuals in study days within participant"
    compared = (
        f"the final {window} days of each {comparison.treatment} and {comparison.comparator} phase"
        if comparison.comparator
        else f"the final {window} days of each {comparison.treatment} phase and the baseline"
    )
    run_in = (
        f"; the first {specification.run_in_days} days of every condition are left out"
        if specification.run_in_days
        else ""
    )
    title = (
        f"Carry-over check (sequence term) for daily {item}"
        if sequence_term
        else f"Daily {item}: mixed model on each condition's final {window} days"
    )
    method = (
        "Linear mixed model, REML (lme4's criterion), "
        + ("each participant's own level and LDN effect as random effects, " if own else "")
        + ("a random level per participant, " if not own else "")
        + (
            "residuals correlated from day to day as AR(1) in study days; "
            if specification.autocorrelation
            else "independent days; "
        )
        + "t intervals and p-values with "
        + (
            "containment degrees of freedom (participants, not days)"
            if own
            else "between-within degrees of freedom"
        )
    )
    if specification.reason:
        method += f". Pre-specified because: {specification.reason}"
    return AnalysisResult(
        name="mixed_model",
        title=title,
        n=fit.n_groups,
        definition=(
            f"Estimand: the mean daily {item} rating on {comparison.treatment} minus on "
            f"{comparison.comparator_label}, over {compared}{run_in}, averaged over "
            f"participants; condition[{comparison.treatment}] estimates it"
        ),
        method=method,
        formula=formula,
        estimates=fit.table(),
        missing_data=MISSING_DAYS,
        assumptions=(
            "Normal residuals and participant effects",
            "The conditions have reached their level by the compared days and the previous "
            "condition no longer acts (the run-in), so periods differ only by a shift",
        ),
        values={
            "observations": fit.n_obs,
            "sigma2": fit.sigma2,
            "tau2": fit.tau2,
            "own_effect_variance": fit.slope_variance,
            "rho": fit.rho,
            "reml_criterion": fit.reml_criterion,
            "window_days": window,
            "run_in_days": specification.run_in_days,
        },
        warnings=tuple(warnings),
    )
