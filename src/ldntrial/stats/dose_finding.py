"""ED50 and ED95 from an up-and-down dose-finding study.

Bruun-Plesner et al. 2020 (studies.md §4.1) reported ED50 3.88 mg and ED95
5.40 mg; their estimator is UNCONFIRMED. The response (the protocol's rule:
at least 30 % less pain than at baseline after the dose's phase) is first
read by centred isotonic regression (:mod:`ldntrial.stats.isotonic`), which
assumes only that response does not fall with dose, with an interval from
re-running the study's own up-and-down design on the fitted curve. Beside
it, the probability of response is modelled by logistic regression on dose,
logit P = a + b dose, fitted by maximum likelihood (statsmodels GLM,
binomial). ED_p is
(logit(p) - a) / b and its 95 % interval comes from Fieller's theorem
(Finney, Probit Analysis, 3rd ed., 1971, §4.5), which, unlike the delta
method, is not forced to be symmetric and is left open (NaN) when the slope
is not clearly positive. Up-and-down designs concentrate doses around ED50,
so ED95 leans on the logistic shape: its interval is wide for that reason.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from ldntrial.errors import AnalysisError
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.randomisation import next_up_and_down_dose, up_and_down_finished
from ldntrial.stats.endpoints import condition_endpoints
from ldntrial.stats.isotonic import IsotonicCurve, centred_isotonic
from ldntrial.stats.prepared import Analysable, prepare
from ldntrial.stats.results import AnalysisResult, estimates_frame

__all__ = ["analyse_dose_finding", "effective_dose", "estimate_effective_doses"]


def effective_dose(
    a: float, b: float, covariance: np.ndarray, p: float, level: float = 0.95
) -> tuple[float, float, float]:
    """ED_p = (logit(p) - a) / b with its Fieller interval (NaN where unbounded)."""
    c = math.log(p / (1 - p))
    if b == 0:
        return math.nan, math.nan, math.nan  # a flat curve reaches no share it does not start at
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
    if len(doses) < 3:
        raise AnalysisError(
            f"the logistic fit has two coefficients and needs at least 3 participants, "
            f"got {len(doses)}"
        )
    if len(np.unique(responded)) < 2 or len(np.unique(doses)) < 2:
        raise AnalysisError("ED estimates need responders and non-responders at several doses")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            fit = sm.GLM(responded, sm.add_constant(doses), family=sm.families.Binomial()).fit()
        except PerfectSeparationWarning:
            raise AnalysisError(
                "dose separates responders from non-responders perfectly, so the logistic "
                "slope is not identified"
            ) from None
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


SHARES = (0.5, 0.95)
BOOTSTRAP = 500
"""Re-runs of the up-and-down design for each interval (percentile limits)."""


def analyse_dose_finding(trial: Analysable, *, seed: int = 2026) -> AnalysisResult:
    """ED50 and ED95 of the trial's doses and responses (the protocol's response rule).

    The centred isotonic estimate leads, with a bootstrap interval that re-runs
    the study's own up-and-down design on the fitted curve; the logistic fit
    with Fieller intervals stands beside it. An ED beyond the ladder, or from
    a curve that does not rise, is reported as not estimable, with the reason.
    """
    context = prepare(trial)
    trial = context.trial
    protocol = trial.protocol
    rule = protocol.response_rule
    threshold = rule.min_improvement_percent if rule else 30.0
    item = rule.item if rule else protocol.endpoints.primary_item
    endpoints = context.frame(condition_endpoints, item).dropna(subset=["improvement_percent"])
    dose = trial.participants.set_index("participant_id")["dose_mg"]
    data = pd.DataFrame(
        {
            "dose_mg": dose.reindex(endpoints["participant_id"]).to_numpy(),
            "responded": (endpoints["improvement_percent"] >= threshold).to_numpy(),
        }
    ).dropna()
    doses = protocol.up_and_down.doses_mg if protocol.up_and_down else []
    ladder = np.array(doses or sorted(set(data["dose_mg"])), dtype=float)
    curve = centred_isotonic(data["dose_mg"].to_numpy(), data["responded"].to_numpy())
    rng = np.random.default_rng(seed)
    replicates = _bootstrap(curve, ladder, protocol, len(data), rng)
    rows, warnings = [], []
    for share in SHARES:
        label = f"ED{int(share * 100)} (mg)"
        estimate = curve.dose_at(share)
        if estimate is None:
            warnings.append(_unreached(label, curve, share))
        values = [r for r in replicates[share] if r is not None]
        low, high = (
            np.percentile(values, [2.5, 97.5]) if len(values) >= 0.8 * BOOTSTRAP else (np.nan,) * 2
        )
        if estimate is not None and np.isnan(low):
            warnings.append(
                f"{label}, centred isotonic: no interval, the re-run studies reached it in "
                f"only {len(values)} of {BOOTSTRAP}"
            )
        rows.append(
            {
                "term": f"{label}, centred isotonic",
                "estimate": np.nan if estimate is None else estimate,
                "ci_lower": low,
                "ci_upper": high,
                "n": len(data),
            }
        )
    logistic, logistic_warnings = _logistic_rows(data, ladder)
    rows += logistic
    warnings += logistic_warnings
    return AnalysisResult(
        name="dose_finding",
        title="Dose finding: ED50 and ED95",
        n=len(data),
        definition=(
            f"Response = {item} at least {threshold:g} % better than baseline at the end of "
            "the dose's phase; ED_p = dose at which a share p of women respond"
        ),
        method=(
            "Centred isotonic regression (Oron & Flournoy 2017) with a 95 % percentile "
            f"interval from {BOOTSTRAP} re-runs of the study's up-and-down design on the "
            "fitted curve; beside it, logistic regression of response on dose (maximum "
            "likelihood) with Fieller 95 % intervals"
        ),
        formula="P(response) non-decreasing in dose; logistic: logit P = a + b dose",
        estimates=estimates_frame(rows),
        missing_data="Participants without an end point are left out.",
        assumptions=(
            "The response rate does not fall as the dose rises",
            "Up-and-down data inform ED95 only through the few participants at high doses",
        ),
        tables={
            "by_dose": data.groupby("dose_mg")["responded"].agg(["count", "sum"]).reset_index(),
            "curve": pd.DataFrame(
                {"dose_mg": curve.doses, "rate": curve.rates, "participants": curve.participants}
            ),
        },
        warnings=tuple(warnings),
    )


def _unreached(label: str, curve: IsotonicCurve, share: float) -> str:
    low, high = curve.rates[0], curve.rates[-1]
    where = (
        f"the fitted response rate reaches only {high:.0%} at {curve.doses[-1]:g} mg"
        if share > high
        else f"already {low:.0%} respond at {curve.doses[0]:g} mg"
    )
    return f"{label} is not estimable on this ladder: {where}"


def _bootstrap(
    curve: IsotonicCurve,
    ladder: np.ndarray,
    protocol: Protocol,
    participants: int,
    rng: np.random.Generator,
) -> dict[float, list[float | None]]:
    """ED estimates from ``BOOTSTRAP`` re-runs of the up-and-down design on ``curve``: the
    same start, ladder, rule and size (or stopping rule), responses drawn from the curve."""
    rates = {float(dose): curve.rate_at(dose) for dose in ladder}
    results: dict[float, list[float | None]] = {share: [] for share in SHARES}
    for _ in range(BOOTSTRAP):
        history: list[tuple[float, bool]] = []
        while len(history) < participants and not up_and_down_finished(protocol, history):
            dose = next_up_and_down_dose(protocol, history)
            history.append((dose, bool(rng.random() < rates[dose])))
        doses, responses = zip(*history, strict=True)
        replicate = centred_isotonic(np.array(doses), np.array(responses, dtype=float))
        for share in SHARES:
            results[share].append(replicate.dose_at(share))
    return results


def _logistic_rows(
    data: pd.DataFrame, ladder: np.ndarray
) -> tuple[list[dict[Any, Any]], list[str]]:
    try:
        table = estimate_effective_doses(
            data["dose_mg"].to_numpy(dtype=float), data["responded"].to_numpy(dtype=float)
        )
    except AnalysisError as error:
        return [], [f"logistic fit: {error}"]
    warnings = []
    slope = table.loc[table["term"] == "slope (logit per mg)", "estimate"].iloc[0]
    for index, row in table.iterrows():
        if not str(row["term"]).startswith("ED"):
            continue
        label = str(row["term"]).replace(" (mg)", "")
        reason = None
        if slope <= 0:
            reason = "the fitted response rate does not rise with dose"
        elif not ladder.min() <= row["estimate"] <= ladder.max():
            reason = (
                f"the logistic curve puts it at {row['estimate']:.2f} mg, outside the ladder "
                f"({ladder.min():g}-{ladder.max():g} mg)"
            )
        if reason:
            warnings.append(f"{label} (mg), logistic, is not estimable: {reason}")
            table.loc[index, ["estimate", "ci_lower", "ci_upper"]] = np.nan
        table.loc[index, "term"] = f"{label} (mg), logistic"
    return table.to_dict(orient="records"), warnings
