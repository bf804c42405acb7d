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

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from ldntrial.data.trialdata import TrialData
from ldntrial.protocol.model import Protocol
from ldntrial.stats.design import Comparison, Design, classify_design, comparison_of
from ldntrial.stats.endpoints import condition_endpoints
from ldntrial.stats.results import AnalysisResult, estimates_frame

__all__ = ["analyse_endpoint", "mean_with_ci", "primary_term", "wilcoxon_p"]

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
    mean = float(values.mean())
    row.update(estimate=mean, sd=float(values.std(ddof=1)) if n > 1 else np.nan)
    if n < 2:
        return row
    se = float(values.std(ddof=1) / np.sqrt(n))
    q = float(stats.t.ppf(0.5 + level / 2, n - 1))
    p = float(2 * stats.t.sf(abs(mean / se), n - 1)) if se > 0 else np.nan
    wilcoxon = wilcoxon_p(values)
    row.update(
        std_error=se,
        ci_lower=mean - q * se,
        ci_upper=mean + q * se,
        p_value=p,
        wilcoxon_p=wilcoxon,
    )
    return row


def analyse_endpoint(trial: TrialData, item: str | None = None) -> AnalysisResult:
    """The end-point analysis of ``item`` (default: the primary item) for the trial's design."""
    protocol = trial.protocol
    item = item or protocol.endpoints.primary_item
    design = classify_design(protocol)
    comparison = comparison_of(protocol)
    endpoints = condition_endpoints(trial, item)
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


def primary_term(protocol: Protocol) -> str:
    """The row of :func:`analyse_endpoint` that compares LDN with its comparator."""
    comparison = comparison_of(protocol)
    if classify_design(protocol) == Design.PARALLEL:
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
