"""ED50 and ED95 from an up-and-down dose-finding study.

Bruun-Plesner et al. 2020 (studies.md §4.1) reported ED50 3.88 mg and ED95
5.40 mg; their estimator is UNCONFIRMED. Here the probability of response
(the protocol's response rule: at least 30 % less pain than at baseline after
the dose's phase) is modelled by logistic regression on dose, logit P = a +
b dose, fitted by maximum likelihood (statsmodels GLM, binomial). ED_p is
(logit(p) - a) / b and its 95 % interval comes from Fieller's theorem
(Finney, Probit Analysis, 3rd ed., 1971, §4.5), which, unlike the delta
method, is not forced to be symmetric and is left open (NaN) when the slope
is not clearly positive. Up-and-down designs concentrate doses around ED50,
so ED95 leans on the logistic shape: its interval is wide for that reason.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from ldntrial.data.trialdata import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.stats.endpoints import condition_endpoints
from ldntrial.stats.results import AnalysisResult, estimates_frame

__all__ = ["analyse_dose_finding", "effective_dose", "estimate_effective_doses"]


def effective_dose(
    a: float, b: float, covariance: np.ndarray, p: float, level: float = 0.95
) -> tuple[float, float, float]:
    """ED_p = (logit(p) - a) / b with its Fieller interval (NaN where unbounded)."""
    c = math.log(p / (1 - p))
    estimate = (c - a) / b
    t = stats.norm.ppf(0.5 + level / 2)
    v_aa, v_ab, v_bb = covariance[0, 0], covariance[0, 1], covariance[1, 1]
    v_nn, v_nb = v_aa, -v_ab  # numerator N = c - a
    g = t * t * v_bb / (b * b)
    if g >= 1:
        return estimate, math.nan, math.nan
    inner = v_nn - 2 * estimate * v_nb + estimate**2 * v_bb - g * (v_nn - v_nb**2 / v_bb)
    half = t / abs(b) * math.sqrt(max(inner, 0.0))
    centre = estimate - g * v_nb / v_bb
    return estimate, (centre - half) / (1 - g), (centre + half) / (1 - g)


def estimate_effective_doses(doses: np.ndarray, responded: np.ndarray) -> pd.DataFrame:
    """Logistic fit of response on dose; rows for ED50 and ED95 plus the two coefficients."""
    doses = np.asarray(doses, dtype=float)
    responded = np.asarray(responded, dtype=float)
    if len(np.unique(responded)) < 2 or len(np.unique(doses)) < 2:
        raise AnalysisError("ED estimates need responders and non-responders at several doses")
    fit = sm.GLM(responded, sm.add_constant(doses), family=sm.families.Binomial()).fit()
    a, b = fit.params
    covariance = np.asarray(fit.cov_params())
    rows = [
        {"term": "intercept (logit)", "estimate": a, "std_error": fit.bse[0]},
        {
            "term": "slope (logit per mg)",
            "estimate": b,
            "std_error": fit.bse[1],
            "p_value": fit.pvalues[1],
        },
    ]
    for p in (0.5, 0.95):
        estimate, low, high = effective_dose(a, b, covariance, p)
        rows.append(
            {
                "term": f"ED{int(p * 100)} (mg)",
                "estimate": estimate,
                "ci_lower": low,
                "ci_upper": high,
            }
        )
    return estimates_frame(rows)


def analyse_dose_finding(trial: TrialData) -> AnalysisResult:
    """ED50 and ED95 of the trial's doses and responses (the protocol's response rule)."""
    protocol = trial.protocol
    rule_id = protocol.allocation.response_rule
    rule = next((r for r in protocol.endpoints.responders if r.id == rule_id), None)
    threshold = rule.min_improvement_percent if rule else 30.0
    item = rule.item if rule else protocol.endpoints.primary_item
    endpoints = condition_endpoints(trial, item).dropna(subset=["improvement_percent"])
    dose = trial.participants.set_index("participant_id")["dose_mg"]
    data = pd.DataFrame(
        {
            "dose_mg": dose.reindex(endpoints["participant_id"]).to_numpy(),
            "responded": (endpoints["improvement_percent"] >= threshold).to_numpy(),
        }
    ).dropna()
    estimates = estimate_effective_doses(data["dose_mg"], data["responded"])
    return AnalysisResult(
        name="dose_finding",
        title="Dose finding: ED50 and ED95",
        n=len(data),
        definition=(
            f"Response = {item} at least {threshold:g} % better than baseline at the end of "
            "the dose's phase; ED_p = dose at which a share p of women respond"
        ),
        method="Logistic regression of response on dose (maximum likelihood); Fieller 95 % "
        "intervals for ED50 and ED95",
        formula="logit P(response) = a + b dose",
        estimates=estimates,
        missing_data="Participants without an end point are left out.",
        assumptions=(
            "Response probability rises with dose along a logistic curve",
            "Up-and-down data inform ED95 only through that curve",
        ),
        tables={
            "by_dose": data.groupby("dose_mg")["responded"].agg(["count", "sum"]).reset_index()
        },
    )
