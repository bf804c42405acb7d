"""Baseline ESR as a predictor of response to LDN.

The pilot found that baseline erythrocyte sedimentation rate explained more
than 80 % of the variance in drug response (Younger & Mackey 2009; studies.md
§0 #6) and a news report that the women with ESR of 20 mm/hr or less did not
appear to respond (seed 000, #7). Here the response is each participant's
% improvement on LDN minus on placebo (on LDN alone without a placebo or
in a parallel trial), regressed on baseline ESR by least squares (slope,
95 % CI, R squared), and the >= 30 % responder rate on LDN is compared
above and below 20 mm/hr with Fisher's exact test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ldntrial.protocol.design import Design
from ldntrial.stats.endpoints import condition_endpoints
from ldntrial.stats.prepared import Analysable, prepare
from ldntrial.stats.responders import rate_with_ci
from ldntrial.stats.results import AnalysisResult, estimates_frame

__all__ = ["ESR_CUT_OFF_MM_H", "analyse_esr"]

ESR_CUT_OFF_MM_H = 20.0


def analyse_esr(trial: Analysable) -> AnalysisResult | None:
    """Regression of drug response on baseline ESR, and responders split at 20 mm/hr."""
    context = prepare(trial)
    trial = context.trial
    participants = trial.participants.set_index("participant_id")
    esr = participants["esr_baseline"]
    if esr.notna().sum() < 3:
        return None
    comparison = trial.protocol.comparison
    primary = trial.protocol.endpoints.primary_item
    wide = context.frame(condition_endpoints, primary).pivot(
        index="participant_id", columns="condition", values="improvement_percent"
    )
    response = wide[comparison.treatment]
    within = trial.protocol.design != Design.PARALLEL
    if within and comparison.comparator and comparison.comparator in wide:
        response = response - wide[comparison.comparator]
    data = pd.DataFrame({"esr": esr, "response": response}).dropna()
    if len(data) < 3 or data["esr"].nunique() < 2:
        return None
    fit = stats.linregress(data["esr"], data["response"])
    q = stats.t.ppf(0.975, len(data) - 2)
    rows = [
        {
            "term": "slope (% points per mm/hr)",
            "estimate": fit.slope,
            "std_error": fit.stderr,
            "ci_lower": fit.slope - q * fit.stderr,
            "ci_upper": fit.slope + q * fit.stderr,
            "p_value": fit.pvalue,
            "n": len(data),
        },
        {
            "term": "intercept",
            "estimate": fit.intercept,
            "std_error": fit.intercept_stderr,
            "ci_lower": fit.intercept - q * fit.intercept_stderr,
            "ci_upper": fit.intercept + q * fit.intercept_stderr,
            "n": len(data),
        },
    ]
    responder = (wide[comparison.treatment] >= 30).where(wide[comparison.treatment].notna())
    split = pd.DataFrame({"high": esr > ESR_CUT_OFF_MM_H, "responder": responder}).dropna()
    high = split[split["high"]]["responder"].astype(bool)
    low = split[~split["high"]]["responder"].astype(bool)
    rows.append(rate_with_ci(int(high.sum()), len(high), f"responders ESR > {ESR_CUT_OFF_MM_H:g}"))
    rows.append(rate_with_ci(int(low.sum()), len(low), f"responders ESR <= {ESR_CUT_OFF_MM_H:g}"))
    table = [[int(high.sum()), int((~high).sum())], [int(low.sum()), int((~low).sum())]]
    rows.append(
        {
            "term": "responder rate difference (high - low ESR)",
            "estimate": (high.mean() if len(high) else np.nan)
            - (low.mean() if len(low) else np.nan),
            "p_value": float(stats.fisher_exact(table).pvalue),
            "n": len(split),
        }
    )
    against = f" minus on {comparison.comparator}" if within and comparison.comparator else ""
    return AnalysisResult(
        name="esr",
        title="Baseline ESR and response to LDN",
        n=len(data),
        definition=(
            f"Response = % improvement of the primary item on {comparison.treatment}{against}; "
            f"responder = at least 30 % improvement on {comparison.treatment}"
        ),
        method=(
            "Least-squares regression of response on baseline ESR (t 95 % CI); responder rates "
            f"above and at or below {ESR_CUT_OFF_MM_H:g} mm/hr with Clopper-Pearson CIs and "
            "Fisher's exact test"
        ),
        formula="response ~ esr_baseline",
        estimates=estimates_frame(rows),
        missing_data="Participants without ESR or without the end points are left out.",
        assumptions=("A straight-line relation with normal, equal-variance residuals",),
        tables={"points": data.reset_index()},
        values={"r_squared": fit.rvalue**2},
    )
