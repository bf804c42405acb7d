"""Per-participant difference in daily means, allowing for day-to-day autocorrelation.

Daily ratings of one person are autocorrelated (yesterday's flare lingers),
so a two-sample t-test on her days overstates certainty. Newey-West
standard errors were tried first and rejected: with blocks as short as 14
days they were 40 % too small (a null-scenario test caught it). Instead each
participant's days are fitted by generalised least squares,
``value = a + b * treated`` with AR(1) errors in study days (gaps allowed,
as nlme's ``corCAR1``), the correlation chosen per participant by REML on a
grid of 0, 0.05, ..., 0.95, and ``b`` tested with a t reference on n - 2
degrees of freedom. Vectorised over participants: one pass over all rows
per grid value, no Python loop per person.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["RHO_GRID", "per_participant_difference"]

RHO_GRID = np.round(np.arange(0.0, 0.951, 0.05), 2)


def per_participant_difference(
    participant: np.ndarray | pd.Series,
    day: np.ndarray,
    treated: np.ndarray,
    value: np.ndarray,
) -> pd.DataFrame:
    """Treated-minus-other difference per participant by AR(1) GLS.

    Returns
    -------
    DataFrame indexed by participant_id with n_treated, n_other, difference,
    std_error, t, p_value (two-sided, t on n - 2 df) and rho (the chosen
    lag-1 correlation). Participants without two days on each side get NaN.
    """
    all_codes, labels = pd.factorize(pd.Series(participant), sort=True)
    order = np.lexsort((np.asarray(day), all_codes))
    codes = all_codes[order]
    d = np.asarray(day, dtype=float)[order]
    x = np.asarray(treated, dtype=float)[order]
    y = np.asarray(value, dtype=float)[order]
    groups = len(labels)
    first = np.r_[True, codes[1:] != codes[:-1]]
    gap = np.maximum(np.diff(d, prepend=d[0]), 1.0)
    n = np.bincount(codes, minlength=groups).astype(float)
    n1 = np.bincount(codes, weights=x, minlength=groups)

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=groups)

    best = np.full(groups, np.inf)
    chosen: dict[str, np.ndarray] = {}
    for rho in RHO_GRID:
        a = np.where(first, 0.0, rho**gap)
        scale = 1.0 / np.sqrt(1.0 - a * a)
        y_w = scale * (y - a * np.r_[0.0, y[:-1]])
        x0 = scale * (1.0 - a)
        x1 = scale * (x - a * np.r_[0.0, x[:-1]])
        s00, s01, s11 = total(x0 * x0), total(x0 * x1), total(x1 * x1)
        b0, b1, yy = total(x0 * y_w), total(x1 * y_w), total(y_w * y_w)
        with np.errstate(invalid="ignore", divide="ignore"):
            det = s00 * s11 - s01 * s01
            beta1 = (s00 * b1 - s01 * b0) / det
            beta0 = (s11 * b0 - s01 * b1) / det
            rss = np.maximum(yy - beta0 * b0 - beta1 * b1, 1e-300)
            criterion = (n - 2) * np.log(rss / (n - 2)) + np.log(det) + total(np.log1p(-a * a))
        better = criterion < best
        best = np.where(better, criterion, best)
        candidates = {
            "rho": np.full(groups, rho),
            "beta1": beta1,
            "rss": rss,
            "s00": s00,
            "det": det,
        }
        for key, values in candidates.items():
            chosen[key] = np.where(better, values, chosen.get(key, values))
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(chosen["rss"] / (n - 2) * chosen["s00"] / chosen["det"])
        t = chosen["beta1"] / se
        p = 2 * stats.t.sf(np.abs(t), n - 2)
    valid = (n1 > 1) & (n - n1 > 1)
    return pd.DataFrame(
        {
            "n_treated": n1.astype(int),
            "n_other": (n - n1).astype(int),
            "difference": np.where(valid, chosen["beta1"], np.nan),
            "std_error": np.where(valid, se, np.nan),
            "t": np.where(valid, t, np.nan),
            "p_value": np.where(valid, p, np.nan),
            "rho": np.where(valid, chosen["rho"], np.nan),
        },
        index=pd.Index(np.asarray(labels).astype(str), name="participant_id"),
    )
