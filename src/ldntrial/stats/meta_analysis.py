"""Random-effects meta-analysis: what several trials say together, and how far they differ.

Each trial gives an effect and its standard error. The true effects are taken
to vary between trials around a mean (normal-normal model); their variance
tau^2 is estimated by restricted maximum likelihood (REML), the estimator with
the least bias for few trials (Viechtbauer, J Educ Behav Stat 2005;30:261-293;
Langan et al., Res Synth Methods 2019;10:83-98). With four or five trials the
usual normal interval for the mean covers too rarely, so the interval and
p-value are Hartung-Knapp-Sidik-Jonkman: the trials' own spread about the mean
scales the variance, with t on k - 1 df (IntHout et al., BMC Med Res Methodol
2014;14:25). The prediction interval says where the effect in a new population
like these would lie, with t on k - 2 df (Higgins, Thompson & Spiegelhalter, J
R Stat Soc A 2009;172:137-159; IntHout et al., BMJ Open 2016;6:e010247). With
four or five trials that differ a little it is too narrow: over simulated
syntheses of five trials like the LDN table's it covered a new population's
effect about 97 % of the time when the trials truly agree but about 89 % when
their true effects differ with SD 0.15 (tests/stats/test_meta_analysis.py), the
shortfall Partlett & Riley found (Stat Med 2017;36:301-317); the page and the
command say so. I^2 is the share of the total variance that is between trials,
with the "typical" within-trial variance of Higgins & Thompson (Stat Med
2002;21:1539-1558), as R's metafor reports it.

The numbers agree with metafor's ``rma(method = "REML", test = "knha")`` to
1e-9 (tests/stats/reference/meta_reference.R).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ldntrial.errors import AnalysisError

__all__ = ["Pooled", "leave_one_out", "random_effects", "reml_tau2"]


@dataclass(frozen=True)
class Pooled:
    """A random-effects summary of ``k`` trials; effects keep the scale they were given in."""

    k: int
    estimate: float
    std_error: float
    ci_lower: float
    ci_upper: float
    p_value: float
    df: int
    tau2: float
    i2_percent: float
    q: float
    q_p_value: float
    prediction_lower: float | None
    prediction_upper: float | None
    weights_percent: tuple[float, ...]

    @property
    def tau(self) -> float:
        """The SD of the true effects between trials (on the effects' scale)."""
        return math.sqrt(self.tau2)

    @property
    def finding(self) -> str:
        """ "benefit" or "harm" when the interval leaves out no effect, else "unclear".

        Every sentence about the synthesis is chosen by this, so none says more
        than the interval does.
        """
        if self.ci_lower > 0:
            return "benefit"
        return "harm" if self.ci_upper < 0 else "unclear"


def _checked(effects: np.ndarray, std_errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(effects, dtype=float)
    se = np.asarray(std_errors, dtype=float)
    if y.shape != se.shape or y.ndim != 1:
        raise AnalysisError("effects and standard errors must be two lists of the same length")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(se)) and np.all(se > 0)):
        raise AnalysisError("every effect must be a number and every standard error above 0")
    if len(y) < 2:
        raise AnalysisError(f"a meta-analysis needs at least 2 trials, not {len(y)}")
    return y, se * se


def _reml_score(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Twice the derivative of the restricted log-likelihood in tau^2."""
    w = 1.0 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    trace_p = np.sum(w) - np.sum(w * w) / np.sum(w)
    return float(np.sum(w * w * (y - mu) ** 2) - trace_p)


def reml_tau2(effects: np.ndarray, variances: np.ndarray) -> float:
    """The REML estimate of tau^2, solved from its score equation to machine precision.

    The restricted likelihood rises from 0 while its score is positive, so a
    score at or below 0 at tau^2 = 0 means no spread is estimated; otherwise the
    root is bracketed by doubling (the score is negative for large tau^2).
    """
    y = np.asarray(effects, dtype=float)
    v = np.asarray(variances, dtype=float)
    if _reml_score(0.0, y, v) <= 0:
        return 0.0
    upper = max(float(np.var(y)), float(np.max(v)), 1e-12)
    while _reml_score(upper, y, v) > 0:
        upper *= 2
    return float(optimize.brentq(_reml_score, 0.0, upper, args=(y, v), xtol=1e-15, rtol=1e-15))


def random_effects(
    effects: np.ndarray | list[float],
    std_errors: np.ndarray | list[float],
    *,
    level: float = 0.95,
    hksj_floor: bool = False,
) -> Pooled:
    """The REML random-effects mean with its HKSJ interval, tau^2, I^2 and prediction interval.

    ``hksj_floor`` keeps the HKSJ variance from falling below the model's (the
    ad hoc rule of Roever et al., BMC Med Res Methodol 2015;15:99), which is
    wiser when the trials happen to agree more than their errors allow; the
    published syntheses, and metafor's default, do not use it.
    """
    y, v = _checked(np.asarray(effects), np.asarray(std_errors))
    k = len(y)
    tau2 = reml_tau2(y, v)
    w = 1.0 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    scale = float(np.sum(w * (y - mu) ** 2) / (k - 1))
    if hksj_floor:
        scale = max(scale, 1.0)
    se = math.sqrt(scale / np.sum(w))
    quantile = float(stats.t.ppf(0.5 + level / 2, k - 1))

    fixed_w = 1.0 / v
    fixed_mu = np.sum(fixed_w * y) / np.sum(fixed_w)
    q = float(np.sum(fixed_w * (y - fixed_mu) ** 2))
    typical = (k - 1) * np.sum(fixed_w) / (np.sum(fixed_w) ** 2 - np.sum(fixed_w**2))
    if k > 2:
        spread = float(stats.t.ppf(0.5 + level / 2, k - 2)) * math.sqrt(tau2 + se * se)
        prediction: tuple[float | None, float | None] = (mu - spread, mu + spread)
    else:
        prediction = (None, None)  # no degrees of freedom left for a new population
    return Pooled(
        k=k,
        estimate=mu,
        std_error=se,
        ci_lower=mu - quantile * se,
        ci_upper=mu + quantile * se,
        p_value=float(2 * stats.t.sf(abs(mu) / se, k - 1)),
        df=k - 1,
        tau2=tau2,
        i2_percent=float(100 * tau2 / (tau2 + typical)),
        q=q,
        q_p_value=float(stats.chi2.sf(q, k - 1)),
        prediction_lower=prediction[0],
        prediction_upper=prediction[1],
        weights_percent=tuple(float(x) for x in 100 * w / np.sum(w)),
    )


def leave_one_out(
    effects: np.ndarray | list[float], std_errors: np.ndarray | list[float], *, level: float = 0.95
) -> list[Pooled | None]:
    """The synthesis with each trial left out in turn (None where fewer than 2 remain)."""
    y, se = np.asarray(effects, dtype=float), np.asarray(std_errors, dtype=float)
    results: list[Pooled | None] = []
    for left_out in range(len(y)):
        keep = np.arange(len(y)) != left_out
        results.append(random_effects(y[keep], se[keep], level=level) if keep.sum() >= 2 else None)
    return results
