"""The mixed model on the daily diary: LDN against placebo (or baseline), day by day.

``value ~ condition + period + (1 | participant)`` fitted by REML on the
days of the compared phases only (baseline, washout and follow-up are left
out when there is a placebo; a single-arm study compares LDN days with its
baseline days). The ``condition`` term is mean rating on LDN minus on the
comparator, so for pain a negative estimate is less pain on LDN. Variants:
AR(1) days (``autocorrelation``) and a ``sequence`` term, the carry-over
check of a crossover (Grizzle 1965; Senn, Cross-over Trials in Clinical
Research, 2nd ed., 2002, ch. 3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ldntrial.data.trialdata import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.stats.design import Comparison, comparison_of
from ldntrial.stats.frames import mapped
from ldntrial.stats.mixed import MixedFit, fit_mixed_model
from ldntrial.stats.results import AnalysisResult

__all__ = ["daily_frame", "design_columns", "fit_daily_model", "without_run_in"]

RUN_IN_DAYS = 14

MISSING_DAYS = (
    "Every recorded day of the compared phases is used and missing days are left out, "
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


def fit_daily_model(
    trial: TrialData,
    item: str | None = None,
    *,
    autocorrelation: bool = False,
    sequence_term: bool = False,
) -> AnalysisResult:
    """Mixed model of ``item`` (default: the primary item) on the compared days.

    Returns an :class:`AnalysisResult` whose terms are ``Intercept``,
    ``condition[<ldn>]`` (LDN minus comparator), ``period[k]`` and, with
    ``sequence_term``, ``sequence[s]``; values hold ``sigma2`` (day-to-day
    variance), ``tau2`` (between-participant variance), ``rho`` (lag-1
    correlation) and ``reml_criterion``.
    """
    protocol = trial.protocol
    item = item or protocol.endpoints.primary_item
    comparison = comparison_of(protocol)
    frame = daily_frame(trial, item, comparison)
    X, names, warnings = design_columns(frame, comparison, sequence_term=sequence_term)
    fit = fit_mixed_model(
        frame["value"].to_numpy(dtype=float),
        X,
        names,
        frame["participant_id"],
        days=frame["study_day"].to_numpy(),
        autocorrelation=autocorrelation,
    )
    return _result(item, comparison, fit, names, autocorrelation, sequence_term, warnings)


def _result(
    item: str,
    comparison: Comparison,
    fit: MixedFit,
    names: list[str],
    autocorrelation: bool,
    sequence_term: bool,
    warnings: list[str],
) -> AnalysisResult:
    terms = " + ".join(["condition", *(["period"] if any("period" in n for n in names) else [])])
    if sequence_term:
        terms += " + sequence"
    formula = f"value ~ {terms} + (1 | participant)"
    residuals = "independent days"
    if autocorrelation:
        formula += ", AR(1) residuals in study days within participant"
        residuals = "residuals correlated from day to day as AR(1) in study days"
    title = f"Mixed model of daily {item}"
    if autocorrelation:
        title += " with day-to-day autocorrelation"
    if sequence_term:
        title = f"Carry-over check (sequence term) for daily {item}"
    return AnalysisResult(
        name="mixed_model",
        title=title,
        n=fit.n_groups,
        definition=(
            f"Daily {item} ratings on {comparison.treatment} and on "
            f"{comparison.comparator_label}; condition[{comparison.treatment}] = mean rating on "
            f"{comparison.treatment} minus on {comparison.comparator_label}"
        ),
        method=(
            "Linear mixed model, REML (lme4's criterion), random intercept per participant, "
            f"{residuals}; t intervals and p-values with between-within degrees of freedom"
        ),
        formula=formula,
        estimates=fit.table(),
        missing_data=MISSING_DAYS,
        assumptions=(
            "Normal, homoscedastic residuals and participant intercepts",
            "The LDN effect is the same in every period (no carry-over) and has reached "
            "its level over the phase, or the estimate is an average over the build-up",
        ),
        values={
            "observations": fit.n_obs,
            "sigma2": fit.sigma2,
            "tau2": fit.tau2,
            "rho": fit.rho,
            "reml_criterion": fit.reml_criterion,
        },
        warnings=tuple(warnings),
    )
