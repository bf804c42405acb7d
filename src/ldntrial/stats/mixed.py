"""Linear mixed model per participant: a random intercept, optionally a random condition
effect, optionally AR(1) days.

The daily diary of a crossover trial is ``y = X beta + Z b_participant + e``
with ``b ~ N(0, sigma^2 Lambda Lambda')`` and ``e ~ N(0, sigma^2 R)``. ``Z``
is the intercept alone or the intercept and one column of ``X`` (the
condition: each woman's own LDN effect, ``(1 + condition | participant)``
in lme4's notation); ``R`` is the identity or a continuous-time AR(1)
correlation ``rho^|day - day'|`` within a participant (gaps from missing
days are allowed for, as in nlme's ``corCAR1``). Fitted by REML, the lme4
criterion exactly:

    -2 l_R = (N - p)(1 + log(2 pi RSS / (N - p))) + log|W| + log|A|

after whitening the AR(1) part away row by row (Prais-Winsten with the
gap's power of rho). The products of whitened rows are sums of products of
the raw rows weighted by powers of rho, so the raw products are summed once
per fit, per participant and gap length, and each ``rho`` costs a weighted
sum of those; each evaluation of ``Lambda`` then needs a handful of
sufficient statistics (Woodbury on ``I + Z Lambda Lambda' Z'``, a 1 x 1 or
2 x 2 matrix per participant). That is why a 10,000-participant trial (a
million diary days) fits in seconds while lme4 and statsmodels build sparse
or dense per-group matrices.

Checked against lme4 (``lmer(..., REML = TRUE)``) and nlme
(``lme(..., correlation = corCAR1(form = ~ day | participant))``): the R
script and its reference numbers are in ``tests/stats/reference/``; the
random condition effect against statsmodels' MixedLM and, with AR(1) days,
against the REML likelihood written out with dense matrices.

Degrees of freedom for t-based intervals and p-values follow the
"between-within" rule (SAS DDFM=BETWITHIN): a term constant within every
participant gets ``G - p_between``, any other ``N - G - p_within``. With a
random condition effect the within-participant terms are judged against the
women's spread in that effect, so they get ``G - p_within`` (the
containment rule: a 2 x 2 crossover's condition term has the paired
analysis' ``G - 2``); counting days as if each were a new woman is what made
the daily model say "yes" under a null (issue 14).
"""

from __future__ import annotations

import contextlib
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ldntrial.errors import AnalysisError
from ldntrial.stats.results import estimates_frame

__all__ = ["RHO_GRID", "RHO_MAX", "MixedFit", "fit_mixed_model"]

_THETA_GRID = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 31)])
RHO_GRID = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99])
"""The values of the AR(1) correlation tried first; the best one's neighbours then bound the
search (:mod:`~ldntrial.stats.nof1_batch` searches the same way)."""
RHO_MAX = 0.995
_RHOS_CACHED = 4


@dataclass(frozen=True)
class MixedFit:
    """Estimates of a fitted model; variance parameters are REML estimates.

    ``tau2`` is the variance of the participants' intercepts; with a random
    condition effect ``slope_variance`` is the variance of the women's own
    effects and ``slope_correlation`` its correlation with the intercept.
    """

    names: tuple[str, ...]
    beta: np.ndarray
    covariance: np.ndarray
    df: np.ndarray
    sigma2: float
    tau2: float
    rho: float
    reml_criterion: float
    n_obs: int
    n_groups: int
    slope_variance: float | None = None
    slope_correlation: float | None = None

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy estimates: term, estimate, std_error, ci_lower, ci_upper, p_value, df, t."""
        se = np.sqrt(np.diag(self.covariance))
        t = self.beta / se
        quantile = stats.t.ppf(0.5 + level / 2, self.df)
        return estimates_frame(
            [
                {
                    "term": name,
                    "estimate": float(b),
                    "std_error": float(s),
                    "ci_lower": float(b - q * s),
                    "ci_upper": float(b + q * s),
                    "p_value": float(2 * stats.t.sf(abs(tt), d)),
                    "df": float(d),
                    "t": float(tt),
                }
                for name, b, s, q, tt, d in zip(
                    self.names, self.beta, se, quantile, t, self.df, strict=True
                )
            ]
        )


def fit_mixed_model(
    y: np.ndarray,
    X: np.ndarray,
    names: list[str] | tuple[str, ...],
    groups: np.ndarray | pd.Series,
    *,
    days: np.ndarray | None = None,
    autocorrelation: bool = False,
    random_intercept: bool = True,
    random_slope: str | None = None,
) -> MixedFit:
    """Fit ``y ~ X + (1 | group)`` by REML, with AR(1) days when ``autocorrelation``.

    Parameters
    ----------
    y, X:
        Outcome (N) and fixed-effects design (N x p, full column rank).
    names:
        One name per column of X.
    groups:
        Participant of each row (any hashable labels).
    days:
        Study day of each row; needed with ``autocorrelation`` (gaps allowed).
    autocorrelation:
        Model residuals within a participant as AR(1) in days.
    random_intercept:
        False fits generalised least squares without the participant
        intercept (one participant's N-of-1 trial).
    random_slope:
        The name of a column of X whose effect varies from participant to
        participant, ``(1 + column | group)``: each woman's own LDN effect.
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    names = tuple(names)
    n_obs, p = X.shape
    if n_obs <= p + 1:
        raise AnalysisError(f"{n_obs} observations cannot fit a model with {p} terms")
    if np.linalg.matrix_rank(X) < p:
        raise AnalysisError(f"the model terms {list(names)} are not estimable from these data")
    if autocorrelation and days is None:
        raise AnalysisError("an AR(1) model needs the study day of each observation")
    if random_slope is not None and (not random_intercept or random_slope not in names):
        raise AnalysisError(
            f"a random '{random_slope}' needs a random intercept and a column of that name"
        )
    codes, _ = pd.factorize(pd.Series(groups), sort=True)
    order = np.lexsort((np.zeros(n_obs) if days is None else np.asarray(days), codes))
    Z = np.ones((n_obs, 1))
    if random_slope is not None:
        Z = np.column_stack([Z, X[:, names.index(random_slope)]])
    data = _Sorted(
        y[order], X[order], Z[order], codes[order], None if days is None else days[order]
    )
    n_groups = int(codes.max()) + 1

    def criterion_at(rho: float) -> tuple[float, np.ndarray]:
        statistics = data.statistics(rho)
        if not random_intercept:
            return statistics.criterion(np.zeros((1, 1))), np.zeros((1, 1))
        lam = _best_lambda(statistics)
        return statistics.criterion(lam), lam

    if autocorrelation and random_slope is not None:
        rho, lam = _best_rho_and_lambda(data)
        reml = data.statistics(rho).criterion(lam)
    else:
        if autocorrelation:
            rho = _minimise(lambda r: criterion_at(r)[0], RHO_GRID, upper=RHO_MAX)
        else:
            rho = 0.0
        reml, lam = criterion_at(rho)
    statistics = data.statistics(rho)
    if not math.isfinite(reml):
        raise AnalysisError(
            "the model cannot be fitted: no variance of the random effects leaves the "
            "fixed effects estimable"
        )
    beta, a_matrix, rss = statistics.solve(lam)
    sigma2 = rss / (n_obs - p)
    random_covariance = sigma2 * lam @ lam.T
    slope_variance = slope_correlation = None
    if random_slope is not None:
        slope_variance = float(random_covariance[1, 1])
        scale = math.sqrt(random_covariance[0, 0] * random_covariance[1, 1])
        slope_correlation = float(random_covariance[0, 1] / scale) if scale > 0 else 0.0
    return MixedFit(
        names=names,
        beta=beta,
        covariance=sigma2 * np.linalg.inv(a_matrix),
        df=_degrees_of_freedom(data, n_groups, random_intercept, random_slope is not None),
        sigma2=float(sigma2),
        tau2=float(random_covariance[0, 0]),
        rho=float(rho),
        reml_criterion=float(reml),
        n_obs=n_obs,
        n_groups=n_groups,
        slope_variance=slope_variance,
        slope_correlation=slope_correlation,
    )


def _best_lambda(statistics: _Statistics) -> np.ndarray:
    """The relative covariance factor Lambda (lower triangular) minimising the criterion.

    One random effect: a grid then Brent on ``theta = tau / sigma`` (the
    search the lme4 and nlme references were matched with). Two: bounded
    quasi-Newton on the three entries of Lambda, diagonal >= 0 as in lme4,
    from the starts of :func:`_slope_starts`.
    """
    one = _minimise(lambda t: statistics.criterion(np.array([[t]])), _THETA_GRID)
    if statistics.q == 1:
        return np.array([[one]])

    with _infinite_points_allowed():
        fits = [
            optimize.minimize(
                lambda entries: statistics.criterion(_lower(entries)),
                start,
                method="L-BFGS-B",
                bounds=[(0.0, None), (None, None), (0.0, None)],
            )
            for start in _slope_starts(one)
        ]
    best = min(fits, key=lambda fit: fit.fun)
    return _lower(best.x)


def _best_rho_and_lambda(data: _Sorted) -> tuple[float, np.ndarray]:
    """rho and Lambda together by bounded quasi-Newton, from the lag-1 correlation of the
    days within each participant and random effect, and the starts of :func:`_slope_starts`
    (the whitened statistics cached per rho).

    The cache keeps the last few values of rho: the optimiser's finite-difference
    gradient steps rho and then each entry of Lambda from the same point, so with one
    value kept every step would build the statistics of a rho three times, not twice.
    """
    cache: OrderedDict[float, _Statistics] = OrderedDict()

    def statistics(rho: float) -> _Statistics:
        if rho in cache:
            cache.move_to_end(rho)
        else:
            cache[rho] = data.statistics(rho)
            if len(cache) > _RHOS_CACHED:
                cache.popitem(last=False)
        return cache[rho]

    rho = data.lag_one_correlation()
    theta = _minimise(lambda t: statistics(rho).criterion(np.array([[t]])), _THETA_GRID)
    with _infinite_points_allowed():
        fits = [
            optimize.minimize(
                lambda x: statistics(float(x[0])).criterion(_lower(x[1:])),
                np.r_[rho, start],
                method="L-BFGS-B",
                bounds=[(0.0, RHO_MAX), (0.0, None), (None, None), (0.0, None)],
            )
            for start in _slope_starts(theta)
        ]
    best = min(fits, key=lambda fit: fit.fun)
    return float(best.x[0]), _lower(best.x[1:])


def _infinite_points_allowed() -> contextlib.AbstractContextManager[object]:
    """Quiet the one warning a trial step into the infeasible region raises.

    Where the random effects would absorb a fixed effect the criterion is
    infinite (:meth:`_Statistics.criterion`). A long line-search step of
    L-BFGS-B can land there (on a simulated cytokine panel: Lambda entries of
    -8,052 and 8,251 after iterates near 2.4, -0.28 and 0.48); the search
    backs away from the infinite value, but the finite-difference gradient it
    takes there first is inf - inf, which NumPy reports as an invalid value.
    Nothing else in the fit is silenced, and the fit is the same with or without.
    """
    return np.errstate(invalid="ignore")


def _slope_starts(theta: float) -> list[list[float]]:
    """Starts for Lambda's (l11, l21, l22): the intercept-only answer and a spread of own
    effects from a tenth of it to as much; on 50 simulated crossover-2013 trials these three
    reached the best of 27 starts every time (two missed once, by 3e-4)."""
    spread = max(theta, 0.1)
    return [[theta, 0.0, 0.1 * spread], [theta, 0.0, 0.5 * spread], [theta, 0.0, spread]]


def _lower(entries: np.ndarray) -> np.ndarray:
    return np.array([[entries[0], 0.0], [entries[1], entries[2]]])


def _minimise(
    function: Callable[[float], float], grid: np.ndarray, upper: float | None = None
) -> float:
    """Global search on a grid, then Brent between the best point's neighbours."""
    values = np.array([function(float(x)) for x in grid])
    best = int(np.argmin(values))
    low = grid[max(best - 1, 0)]
    high = grid[best + 1] if best + 1 < len(grid) else (upper if upper is not None else grid[-1])
    if high <= low:
        return float(grid[best])
    found = optimize.minimize_scalar(
        function, bounds=(low, high), method="bounded", options={"xatol": 1e-10}
    )
    return float(found.x) if found.fun <= values[best] else float(grid[best])


class _Sorted:
    """Rows sorted by participant then day, with per-participant slices."""

    def __init__(
        self,
        y: np.ndarray,
        X: np.ndarray,
        Z: np.ndarray,
        codes: np.ndarray,
        days: np.ndarray | None,
    ):
        self.y, self.X, self.Z, self.codes, self.days = y, X, Z, codes, days
        self.starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        self.first = np.zeros(len(y), dtype=bool)
        self.first[self.starts] = True

    def _days(self) -> np.ndarray:
        """The study days, which every AR(1) computation needs (fit_mixed_model checks)."""
        if self.days is None:
            raise AnalysisError("an AR(1) model needs the study day of each observation")
        return self.days

    def lag_one_correlation(self) -> float:
        """Correlation of neighbouring days' deviations from each participant's mean on each
        side of Z (a start for rho, in [0, 0.95])."""
        side = self.Z[:, -1]
        key = self.codes * 2 + (side != 0)
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        sizes = np.diff(np.r_[starts, len(key)])
        deviation = self.y - np.repeat(np.add.reduceat(self.y, starts) / sizes, sizes)
        neighbours = (key[1:] == key[:-1]) & (np.diff(self._days()) == 1)
        now, before = deviation[1:][neighbours], deviation[:-1][neighbours]
        if len(now) < 3 or not np.any(before):
            return 0.0
        return float(np.clip(np.sum(now * before) / np.sum(deviation * deviation), 0.0, 0.95))

    def statistics(self, rho: float) -> _Statistics:
        """The sufficient statistics of the AR(1)-whitened data at ``rho``.

        A whitened row is ``s (v - a v_prev)`` with ``a = rho^gap`` (0 on a
        participant's first day) and ``s = 1 / sqrt(1 - a^2)``, so every
        product of two whitened rows is ``s^2 (v v' - a (v p' + p v') + a^2 p p')``.
        Summed per gap length (:meth:`_gap_sums`, once per fit), each value of
        rho costs a few small weighted sums instead of a pass over every row.
        """
        sums = self.gap_sums
        a = np.where(sums.gaps == 0, 0.0, rho ** sums.gaps.astype(float))
        s2 = 1.0 / (1.0 - a * a)
        weights = np.stack([s2, -a * s2, a * a * s2])  # of v v', v p' + p v', p p'
        total = np.einsum("kc,kcij->ij", weights, sums.all_rows)
        own = np.einsum("kc,kgcij->gij", weights, sums.z_rows)
        p = self.X.shape[1]
        return _Statistics(
            xtx=total[1 : 1 + p, 1 : 1 + p],
            xty=total[1 : 1 + p, 0],
            yty=float(total[0, 0]),
            zz=own[:, :, 1 + p :],
            zx=own[:, :, 1 : 1 + p],
            zy=own[:, :, 0],
            log_det_r=float(np.sum(sums.counts * np.log1p(-a * a))),
            n_obs=len(self.y),
        )

    @cached_property
    def gap_sums(self) -> _GapSums:
        """The row products, summed per gap length: once per fit, whatever rho."""
        return _gap_sums(self)


@dataclass(frozen=True)
class _GapSums:
    """The row products of :meth:`_Sorted.statistics`, summed per gap length.

    ``gaps[c]`` is a gap in days (0: a participant's first day, no previous
    row); ``counts[c]`` how many rows have it. With ``v = (y, X, Z)`` a row and
    ``p`` the previous row of the same participant (zero on her first day),
    ``all_rows[k, c]`` sums ``v v'``, ``v p' + p v'`` and ``p p'`` (k = 0, 1, 2) over
    every row of gap c (m x m), and ``z_rows[k, g, c]`` the rows of those sums that
    belong to Z, over participant g's rows alone (q x m).
    """

    gaps: np.ndarray
    counts: np.ndarray
    all_rows: np.ndarray
    z_rows: np.ndarray


def _gap_sums(data: _Sorted) -> _GapSums:
    v = np.column_stack([data.y, data.X, data.Z])
    previous = np.vstack([np.zeros((1, v.shape[1])), v[:-1]])
    previous[data.first] = 0.0
    if data.days is None:  # no AR(1): every row whitens to itself
        gap = np.zeros(len(v), dtype=np.int64)
    else:
        gap = np.maximum(np.diff(data.days, prepend=data.days[0]), 1).astype(np.int64)
        gap[data.first] = 0
    gaps, kind, counts = np.unique(gap, return_inverse=True, return_counts=True)
    m, q, n_gaps = v.shape[1], data.Z.shape[1], len(gaps)
    all_rows = np.zeros((3, n_gaps, m, m))
    for c in range(n_gaps):
        rows, before = v[kind == c], previous[kind == c]
        cross = rows.T @ before
        all_rows[:, c] = [rows.T @ rows, cross + cross.T, before.T @ before]
    # The same sums over each participant's rows, for the rows of Z (its last q columns):
    # one weighted count per entry, keyed by participant and gap.
    n_groups = int(data.codes.max()) + 1
    key, size = data.codes * n_gaps + kind, n_groups * n_gaps
    z_rows = np.empty((3, n_groups, n_gaps, q, m))
    for i in range(q):
        z, z_before = v[:, m - q + i], previous[:, m - q + i]
        for j in range(m):
            for k, weights in enumerate(
                [
                    z * v[:, j],
                    z * previous[:, j] + z_before * v[:, j],
                    z_before * previous[:, j],
                ]
            ):
                summed = np.bincount(key, weights=weights, minlength=size)
                z_rows[k, :, :, i, j] = summed.reshape(n_groups, n_gaps)
    return _GapSums(gaps, counts.astype(float), all_rows, z_rows)


@dataclass(frozen=True)
class _Statistics:
    """Sufficient statistics of the whitened data for one value of rho.

    Per participant g: ``zz[g] = Z'Z`` (q x q), ``zx[g] = Z'X`` (q x p),
    ``zy[g] = Z'y`` (q).
    """

    xtx: np.ndarray
    xty: np.ndarray
    yty: float
    zz: np.ndarray
    zx: np.ndarray
    zy: np.ndarray
    log_det_r: float
    n_obs: int

    @property
    def q(self) -> int:
        return int(self.zz.shape[1])

    def _weights(self, lam: np.ndarray) -> tuple[np.ndarray, float]:
        """``C = Lambda (I + Lambda' Z'Z Lambda)^-1 Lambda'`` per participant, and the sum of
        ``log|I + Lambda' Z'Z Lambda|``, in closed form (1 x 1 or 2 x 2, no batched inverse):
        the optimiser calls this thousands of times per fit."""
        if lam.shape == (1, 1):  # a random intercept alone, whatever Z holds besides
            gamma = lam[0, 0] ** 2
            inner = 1.0 + gamma * self.zz[:, 0, 0]
            c = np.zeros_like(self.zz)
            c[:, 0, 0] = gamma / inner
            return c, float(np.sum(np.log(inner)))
        l0, l1, l2 = lam[0, 0], lam[1, 0], lam[1, 1]
        z00, z01, z11 = self.zz[:, 0, 0], self.zz[:, 0, 1], self.zz[:, 1, 1]
        a = 1.0 + l0 * l0 * z00 + 2.0 * l0 * l1 * z01 + l1 * l1 * z11
        b = l2 * (l0 * z01 + l1 * z11)
        d = 1.0 + l2 * l2 * z11
        det = a * d - b * b
        k00, k01, k11 = d / det, -b / det, a / det
        c = np.empty_like(self.zz)
        c[:, 0, 0] = l0 * l0 * k00
        c[:, 0, 1] = c[:, 1, 0] = l0 * (l1 * k00 + l2 * k01)
        c[:, 1, 1] = l1 * l1 * k00 + 2.0 * l1 * l2 * k01 + l2 * l2 * k11
        return c, float(np.sum(np.log(det)))

    def solve(
        self, lam: np.ndarray, weights: tuple[np.ndarray, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray, float]:
        c, _ = weights or self._weights(lam)
        a_matrix, b, q = self.xtx.copy(), self.xty.copy(), self.yty
        for j in range(self.q):
            for k in range(self.q):
                cjk = c[:, j, k]
                a_matrix -= (self.zx[:, j, :] * cjk[:, None]).T @ self.zx[:, k, :]
                b -= self.zx[:, j, :].T @ (cjk * self.zy[:, k])
                q -= float(np.sum(cjk * self.zy[:, j] * self.zy[:, k]))
        beta = np.linalg.solve(a_matrix, b)
        return beta, a_matrix, max(q - float(b @ beta), 1e-300)

    def criterion(self, lam: np.ndarray) -> float:
        weights = self._weights(lam)
        try:
            beta, a_matrix, rss = self.solve(lam, weights)
        except np.linalg.LinAlgError:
            return math.inf  # the random effects absorb a fixed effect: not a candidate
        dof = self.n_obs - len(beta)
        sign, log_det_a = np.linalg.slogdet(a_matrix)
        if sign <= 0 or not math.isfinite(weights[1]):
            return math.inf
        return float(
            dof * (1.0 + math.log(2.0 * math.pi * rss / dof))
            + weights[1]
            + self.log_det_r
            + log_det_a
        )


def _degrees_of_freedom(
    data: _Sorted, n_groups: int, random_intercept: bool, random_slope: bool
) -> np.ndarray:
    p = data.X.shape[1]
    if not random_intercept:
        return np.full(p, float(len(data.y) - p))
    spread = np.maximum.reduceat(data.X, data.starts, axis=0) - np.minimum.reduceat(
        data.X, data.starts, axis=0
    )
    between = np.all(spread == 0, axis=0)
    df_between = max(n_groups - int(between.sum()), 1)
    n_within = int((~between).sum())
    if random_slope:
        df_within = max(n_groups - n_within, 1)
    else:
        df_within = max(len(data.y) - n_groups - n_within, 1)
    return np.where(between, float(df_between), float(df_within))
