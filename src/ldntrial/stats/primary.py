"""The registered end-point analysis: % improvement from baseline, compared as the design allows.

Per participant the baseline mean, the end-point mean and the % improvement
come from :func:`~ldntrial.stats.endpoints.condition_endpoints` (the
NCT00568555 definition). Then:

- crossover, fixed order, N-of-1 series: mean % improvement per condition
  and the LDN - placebo paired difference with its 95 % CI, paired t-test
  and Wilcoxon signed-rank test (complete pairs);
- parallel: ANCOVA of change from baseline in points, ``change ~ condition +
  baseline`` (Vickers & Altman, BMJ 2001;323:1123), and % improvement per arm;
- single arm and dose finding: % improvement on LDN against 0 (one-sample t
  and Wilcoxon).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from ldntrial.data.trialdata import TrialData
from ldntrial.protocol.design import Comparison, Design
from ldntrial.protocol.model import Protocol
from ldntrial.stats.endpoints import EndpointArrays, condition_endpoints
from ldntrial.stats.prepared import Analysable, prepare
from ldntrial.stats.results import AnalysisResult, estimates_frame

__all__ = [
    "OneSampleT",
    "PrimaryTerms",
    "analyse_endpoint",
    "mean_with_ci",
    "one_sample_t",
    "primary_term",
    "primary_terms",
    "wilcoxon_p",
]

MISSING_ENDPOINTS = (
    "Baseline and end-point means use the days recorded in their windows (the number of "
    "days behind each mean is in the participants table); a participant with no recorded "
    "day in a window has no value for it and is left out of comparisons that need it "
    "(complete cases). Dropouts count in the flow, not in the means."
)


def mean_with_ci(values: np.ndarray, term: str, level: float = 0.95) -> dict[str, float | str]:
    """Mean, SE, t interval, one-sample t and Wilcoxon p-values against 0 of ``values``."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    row: dict[str, float | str] = {"term": term, "n": n, "estimate": np.nan}
    if n == 0:
        return row
    test = one_sample_t(values[None, :])
    mean, sd = float(test.mean[0]), float(test.sd[0])
    row.update(estimate=mean, sd=sd)
    if n < 2:
        return row
    se = float(test.std_error[0])
    q = float(stats.t.ppf(0.5 + level / 2, n - 1))
    row.update(
        std_error=se,
        ci_lower=mean - q * se,
        ci_upper=mean + q * se,
        p_value=float(test.p_value[0]),
        wilcoxon_p=wilcoxon_p(values),
    )
    return row


@dataclass(frozen=True)
class OneSampleT:
    """Per row: values counted, mean, SD, standard error and two-sided t-test p against 0.

    NaN where a row has too few values (the mean needs one, the rest two) or
    no spread (a zero standard error leaves the p-value undefined).
    """

    n: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    std_error: np.ndarray
    p_value: np.ndarray


def one_sample_t(values: np.ndarray) -> OneSampleT:
    """The one-sample t-test of every row of ``values`` at once, NaN entries left out.

    One definition for a single analysis (:func:`mean_with_ci`) and for the
    thousands of simulated trials of a power calculation.
    """
    values = np.asarray(values, dtype=float)
    present = np.isfinite(values)
    n = present.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(present, values, 0.0).sum(axis=1) / n
        squares = np.where(present, (values - mean[:, None]) ** 2, 0.0).sum(axis=1)
        sd = np.where(n > 1, np.sqrt(squares / (n - 1)), np.nan)
        se = sd / np.sqrt(n)
        t = np.abs(mean) / se
        p = np.where((n > 1) & (se > 0), 2 * stats.t.sf(t, np.maximum(n - 1, 1)), np.nan)
    return OneSampleT(n=n, mean=np.where(n > 0, mean, np.nan), sd=sd, std_error=se, p_value=p)


def analyse_endpoint(trial: Analysable, item: str | None = None) -> AnalysisResult:
    """The end-point analysis of ``item`` (default: the primary item) for the trial's design."""
    context = prepare(trial)
    trial = context.trial
    protocol = trial.protocol
    item = item or protocol.endpoints.primary_item
    design = protocol.design
    comparison = protocol.comparison
    endpoints = context.frame(condition_endpoints, item)
    definition = _definition(trial, item)
    randomised = len(trial.participants)
    if design == Design.PARALLEL:
        return _parallel(item, endpoints, comparison, definition, randomised)
    if comparison.comparator is None:
        return _single_arm(item, endpoints, comparison, definition, randomised)
    return _paired(item, endpoints, comparison, definition, randomised, design)


def wilcoxon_p(values: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value against 0, as R's ``wilcox.test`` computes it.

    R's default, so that a reader who checks with R gets the same number: zeros
    dropped, the exact distribution when fewer than 50 values remain and none
    are tied, otherwise the normal approximation with a continuity correction
    (scipy's own default would use the exact test with ties present and no
    correction; on one simulated trial the two fell on either side of 0.05).
    """
    nonzero = values[values != 0]
    if len(nonzero) < 2:
        return np.nan
    tied = len(np.unique(np.abs(nonzero))) < len(nonzero)
    exact = len(nonzero) < 50 and not tied
    result = stats.wilcoxon(nonzero, method="exact" if exact else "approx", correction=True)
    return float(result.pvalue)


@dataclass(frozen=True)
class PrimaryTerms:
    """The primary term of :func:`analyse_endpoint` (estimate and p-value) for many trials."""

    estimate: np.ndarray
    p_value: np.ndarray


def primary_terms(protocol: Protocol, trials: Sequence[EndpointArrays]) -> PrimaryTerms:
    """The row :func:`primary_term` names, for each trial's end points, without a table.

    The same tests as :func:`analyse_endpoint`: the paired or one-sample t-test
    on % improvement (vectorised over trials) or the ANCOVA condition term
    (least squares, one trial at a time). A power simulation analyses its
    trials here; a test holds the figures equal to the full analysis'.
    """
    comparison = protocol.comparison
    treatment, comparator = comparison.treatment, comparison.comparator
    if protocol.design == Design.PARALLEL and comparator is not None:
        terms = [_ancova_term(trial, treatment, comparator) for trial in trials]
        return PrimaryTerms(
            estimate=np.array([term[0] for term in terms]),
            p_value=np.array([term[1] for term in terms]),
        )
    width = max(len(trial.baseline) for trial in trials)
    values = np.full((len(trials), width), np.nan)
    for row, trial in enumerate(trials):
        improvement = trial.column(treatment)
        if comparator is not None:
            improvement = improvement - trial.column(comparator)
        values[row, : len(improvement)] = improvement
    test = one_sample_t(values)
    return PrimaryTerms(estimate=test.mean, p_value=test.p_value)


def _ancova_term(trial: EndpointArrays, treatment: str, comparator: str) -> tuple[float, float]:
    """``change ~ condition + baseline``: the condition coefficient and its two-sided p.

    Each participant of a parallel trial has one arm: her end point is on it.
    """
    on_treatment = trial.visited[:, trial.conditions.index(treatment)]
    on_comparator = trial.visited[:, trial.conditions.index(comparator)]
    endpoint = np.where(
        on_treatment,
        trial.endpoint[:, trial.conditions.index(treatment)],
        trial.endpoint[:, trial.conditions.index(comparator)],
    )
    change = endpoint - trial.baseline
    keep = (on_treatment | on_comparator) & np.isfinite(change)
    X = np.column_stack(
        [np.ones(keep.sum()), on_treatment[keep].astype(float), trial.baseline[keep]]
    )
    y = change[keep]
    residual_df = len(y) - 3
    if residual_df < 1:
        return float("nan"), float("nan")
    coefficients, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    if rank < 3:
        return float("nan"), float("nan")
    residuals = y - X @ coefficients
    variance = residuals @ residuals / residual_df
    se = float(np.sqrt(variance * np.linalg.inv(X.T @ X)[1, 1]))
    p = float(2 * stats.t.sf(abs(coefficients[1]) / se, residual_df)) if se > 0 else float("nan")
    return float(coefficients[1]), p


def primary_term(protocol: Protocol) -> str:
    """The row of :func:`analyse_endpoint` that compares LDN with its comparator."""
    comparison = protocol.comparison
    if protocol.design == Design.PARALLEL:
        return f"condition[{comparison.treatment}]"
    if comparison.comparator is None:
        return "% improvement"
    return f"{comparison.treatment} - {comparison.comparator}"


def _definition(trial: TrialData, item: str) -> str:
    endpoints = trial.protocol.endpoints
    days = endpoints.endpoint_days
    window = f"the final {days} days" if days else "all days"
    baseline = (
        f"the last {endpoints.baseline_days} days" if endpoints.baseline_days else "all days"
    )
    return (
        f"% improvement in {item} = (baseline - end point) / baseline x 100 (sign turned where "
        f"higher is better), baseline = mean daily rating over {baseline} of "
        f"'{endpoints.baseline_phase}', end point = mean over {window} of each condition "
        "(NCT00568555)"
    )


def _per_condition(endpoints: pd.DataFrame) -> pd.DataFrame:
    grouped = endpoints.dropna(subset=["improvement_percent"]).groupby("condition", observed=True)
    return pd.DataFrame(
        {
            "n": grouped.size(),
            "baseline_mean": grouped["baseline"].mean(),
            "endpoint_mean": grouped["endpoint"].mean(),
            "mean_improvement_percent": grouped["improvement_percent"].mean(),
            "sd_improvement_percent": grouped["improvement_percent"].std(),
        }
    ).reset_index()


def _paired(
    item: str,
    endpoints: pd.DataFrame,
    comparison: Comparison,
    definition: str,
    randomised: int,
    design: Design,
) -> AnalysisResult:
    treatment, comparator = comparison.treatment, comparison.comparator
    wide = endpoints.pivot(
        index="participant_id", columns="condition", values="improvement_percent"
    )
    pairs = wide[[treatment, comparator]].dropna()
    rows = [
        mean_with_ci(wide[treatment].to_numpy(), f"{treatment} % improvement"),
        mean_with_ci(wide[comparator].to_numpy(), f"{comparator} % improvement"),
        mean_with_ci(
            (pairs[treatment] - pairs[comparator]).to_numpy(), f"{treatment} - {comparator}"
        ),
    ]
    warnings = []
    if design == Design.FIXED_ORDER:
        warnings.append(
            f"every participant took {comparator} before {treatment}, so the difference "
            "also contains any change over time (single-blind fixed order)"
        )
    if len(pairs) < randomised:
        warnings.append(f"{randomised - len(pairs)} of {randomised} participants lack a pair")
    return AnalysisResult(
        name="primary",
        title=f"{item}: % improvement from baseline, {treatment} vs {comparator}",
        n=len(pairs),
        definition=definition,
        method=(
            "Mean % improvement per condition with t 95 % CI; paired difference "
            f"{treatment} - {comparator} with t 95 % CI, paired t-test (p_value) and "
            "Wilcoxon signed-rank test (wilcoxon_p), two-sided; the Wilcoxon p as R's "
            "wilcox.test gives it (exact below 50 pairs without ties, otherwise normal with "
            "continuity correction)"
        ),
        estimates=estimates_frame(rows),
        missing_data=MISSING_ENDPOINTS,
        assumptions=(
            "Paired differences roughly normal for the t-test (the Wilcoxon test does not "
            "need it)",
            "No carry-over from the first condition into the second's end point",
        ),
        tables={"per_condition": _per_condition(endpoints), "participants": endpoints},
        values={"randomised": randomised, "analysed_pairs": len(pairs)},
        warnings=tuple(warnings),
    )


def _single_arm(
    item: str,
    endpoints: pd.DataFrame,
    comparison: Comparison,
    definition: str,
    randomised: int,
) -> AnalysisResult:
    on_treatment = endpoints[endpoints["condition"] == comparison.treatment]
    row = mean_with_ci(on_treatment["improvement_percent"].to_numpy(), "% improvement")
    return AnalysisResult(
        name="primary",
        title=f"{item}: % improvement from baseline on {comparison.treatment}",
        n=int(row["n"]),
        definition=definition,
        method="Mean % improvement with t 95 % CI; one-sample t-test and Wilcoxon signed-rank "
        "test against no change, two-sided",
        estimates=estimates_frame([row]),
        missing_data=MISSING_ENDPOINTS,
        assumptions=("Without a placebo phase the change includes placebo response and time",),
        tables={"per_condition": _per_condition(endpoints), "participants": endpoints},
        values={"randomised": randomised},
        warnings=("no placebo comparison: an improvement here is not evidence that LDN works",),
    )


def _parallel(
    item: str,
    endpoints: pd.DataFrame,
    comparison: Comparison,
    definition: str,
    randomised: int,
) -> AnalysisResult:
    treatment, comparator = comparison.treatment, comparison.comparator
    data = endpoints.dropna(subset=["baseline", "endpoint"])
    data = data[data["condition"].isin([treatment, comparator])]
    change = (data["endpoint"] - data["baseline"]).to_numpy()
    X = np.column_stack(
        [
            np.ones(len(data)),
            (data["condition"] == treatment).to_numpy(dtype=float),
            data["baseline"].to_numpy(),
        ]
    )
    fit = sm.OLS(change, X).fit()
    ci = fit.conf_int()
    names = ["Intercept", f"condition[{treatment}]", "baseline"]
    rows = [
        {
            "term": name,
            "estimate": fit.params[j],
            "std_error": fit.bse[j],
            "ci_lower": ci[j, 0],
            "ci_upper": ci[j, 1],
            "p_value": fit.pvalues[j],
            "n": len(data),
        }
        for j, name in enumerate(names)
    ]
    for condition in (treatment, comparator):
        values = data.loc[data["condition"] == condition, "improvement_percent"].to_numpy()
        rows.append(mean_with_ci(values, f"{condition} % improvement"))
    return AnalysisResult(
        name="primary",
        title=f"{item}: change from baseline, {treatment} vs {comparator} (ANCOVA)",
        n=len(data),
        definition=definition + "; ANCOVA outcome = end point - baseline in rating points",
        method=(
            "ANCOVA (OLS): change ~ condition + baseline; condition term = adjusted mean "
            f"difference in change, {treatment} - {comparator}, with t 95 % CI; % improvement "
            "per arm with t 95 % CI"
        ),
        formula="change ~ condition + baseline",
        estimates=estimates_frame(rows),
        missing_data=MISSING_ENDPOINTS,
        assumptions=(
            "Residuals normal with equal variance in both arms",
            "The baseline slope is the same in both arms",
        ),
        tables={"per_condition": _per_condition(endpoints), "participants": endpoints},
        values={"randomised": randomised, "r_squared": float(fit.rsquared)},
    )
