"""Many patients' N-of-1 verdicts at once, from diary arrays: the power of an N-of-1 design.

:func:`~ldntrial.stats.nof1.answer_for_participant` answers one woman with
her paragraph, priors and tables; a power calculation needs only the verdict
of thousands of simulated women. This is the same analysis (the days of the
two conditions, each block's first ``run_in_days`` left out, a level per pair
of blocks, generalised least squares with AR(1) errors in study days by REML,
the probability of a meaningful benefit from the flat-prior normal
approximation) for every patient of a :class:`~ldntrial.data.diary_arrays.DiaryArrays`
together: her rows packed into padded arrays, the REML criterion evaluated
for all patients at once on :mod:`~ldntrial.stats.mixed`'s grid of rho and
then narrowed by golden-section search (to 1e-10 in rho; the single fit's
bounded Brent stops within about 1e-8). A test holds the verdicts equal to
the full analysis' and the estimates and standard errors equal to 1e-5 points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ldntrial.data.diary_arrays import DiaryArrays, DiaryGroup
from ldntrial.errors import AnalysisError
from ldntrial.protocol.design import Comparison, Design
from ldntrial.protocol.model import Protocol
from ldntrial.stats.mixed import RHO_GRID, RHO_MAX
from ldntrial.stats.nof1 import Nof1Spec, Verdict, pair_of_period, verdict_of

__all__ = ["Nof1Verdicts", "nof1_verdicts"]

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
_TOLERANCE = 1e-10


@dataclass(frozen=True)
class Nof1Verdicts:
    """Per participant (in the trial's order): the LDN - comparator difference in points,
    its standard error and the verdict (NaN and "cannot tell" with too few days)."""

    difference: np.ndarray
    std_error: np.ndarray
    verdict: np.ndarray


def nof1_verdicts(diaries: DiaryArrays, spec: Nof1Spec | None = None) -> Nof1Verdicts:
    """The verdict of :func:`~ldntrial.stats.nof1.answer_every_participant` for each patient."""
    spec = spec or Nof1Spec()
    protocol = diaries.protocol
    if protocol.design != Design.NOF1:
        raise AnalysisError(f"{protocol.id} is not an N-of-1 design")
    comparison = protocol.comparison
    item = protocol.endpoints.primary_item
    higher_is_better = protocol.diary_item(item).higher_is_better
    difference = np.full(diaries.n, np.nan)
    std_error = np.full(diaries.n, np.nan)
    # Every sequence's patients in one batch: the search costs the same for 5 or 500.
    rows = _Rows.stack(
        [_analysed_rows(protocol, comparison, group, item, spec) for group in diaries.groups]
    )
    members = np.concatenate([group.members for group in diaries.groups])
    enough = (rows.days_on >= spec.min_days_per_condition) & (
        rows.days_off >= spec.min_days_per_condition
    )
    if enough.any():
        estimate, se = _gls_ar1_condition(rows.select(enough))
        difference[members[enough]] = estimate
        std_error[members[enough]] = se
    sign = 1.0 if higher_is_better else -1.0
    with np.errstate(invalid="ignore"):
        p_points = stats.norm.sf((spec.meaningful_points - sign * difference) / std_error)
    verdict = np.array(
        [verdict_of(float(p), spec) if np.isfinite(p) else Verdict.CANNOT_TELL for p in p_points],
        dtype=object,
    )
    return Nof1Verdicts(difference, std_error, verdict)


@dataclass(frozen=True)
class _Rows:
    """Each patient's analysed days packed to the front of padded arrays (patients x days)."""

    value: np.ndarray
    day: np.ndarray
    treated: np.ndarray
    pair: np.ndarray
    used: np.ndarray

    @property
    def days_on(self) -> np.ndarray:
        return np.asarray((self.used & self.treated).sum(axis=1))

    @property
    def days_off(self) -> np.ndarray:
        return np.asarray((self.used & ~self.treated).sum(axis=1))

    @staticmethod
    def stack(parts: list[_Rows]) -> _Rows:
        """The patients of every part, padded to the longest."""
        width = max(part.value.shape[1] for part in parts)

        def padded(name: str, fill: float | bool) -> np.ndarray:
            columns: list[np.ndarray] = [getattr(part, name) for part in parts]
            return np.concatenate(
                [
                    np.pad(column, ((0, 0), (0, width - column.shape[1])), constant_values=fill)
                    for column in columns
                ]
            )

        return _Rows(
            value=padded("value", 0.0),
            day=padded("day", 0.0),
            treated=padded("treated", False),
            pair=padded("pair", 0),
            used=padded("used", False),
        )

    def select(self, patients: np.ndarray) -> _Rows:
        """Those ``patients``, without the padding none of them uses (the run-ins and the
        days of other conditions are most of a calendar)."""
        width = int(self.used[patients].sum(axis=1).max())
        return _Rows(
            self.value[patients, :width],
            self.day[patients, :width],
            self.treated[patients, :width],
            self.pair[patients, :width],
            self.used[patients, :width],
        )


def _analysed_rows(
    protocol: Protocol, comparison: Comparison, group: DiaryGroup, item: str, spec: Nof1Spec
) -> _Rows:
    """The days :func:`~ldntrial.stats.nof1.answer_for_participant` analyses, per patient:
    entered, on one of the two conditions, past the run-in of their block."""
    plan = group.plan
    values = group.ratings[item]
    condition = plan.condition.astype(str)
    on_treatment = condition == comparison.treatment
    if comparison.comparator is not None:
        compared = on_treatment | (condition == comparison.comparator)
    else:
        compared = on_treatment | (plan.phase.astype(str) == comparison.baseline_phase)
    kept = np.isfinite(values) & compared[None, :]
    days = np.arange(1, plan.total_days + 1)
    # A block's run-in counts from her first entered day of it (as without_run_in does).
    for period in np.unique(plan.period[compared]):
        if period == 0:
            continue
        in_block = plan.period == period
        block_days = days[in_block]
        entered = kept[:, in_block]
        first = np.where(entered.any(axis=1), block_days[np.argmax(entered, axis=1)], 0)
        settled = block_days[None, :] >= first[:, None] + spec.run_in_days
        kept[:, in_block] &= settled
    pair = pair_of_period(protocol, plan.period)
    # Pack each patient's kept days to the front, in day order.
    order = np.argsort(~kept, axis=1, kind="stable")
    return _Rows(
        value=np.take_along_axis(np.where(kept, values, 0.0), order, axis=1),
        day=days[order].astype(float),
        treated=on_treatment[order],
        pair=pair[order],
        used=np.take_along_axis(kept, order, axis=1),
    )


def _gls_ar1_condition(rows: _Rows) -> tuple[np.ndarray, np.ndarray]:
    """The condition coefficient and its standard error of ``value ~ condition + pair``
    with AR(1) errors in days, by REML, for every patient (rho searched as in
    :func:`~ldntrial.stats.mixed.fit_mixed_model`)."""
    X, present = _design(rows)
    patients = len(rows.value)
    grid = np.array([_criterion(rows, X, present, np.full(patients, rho)) for rho in RHO_GRID])
    best = np.argmin(grid, axis=0)
    low = RHO_GRID[np.maximum(best - 1, 0)]
    last = len(RHO_GRID) - 1
    high = np.where(best < last, RHO_GRID[np.minimum(best + 1, last)], RHO_MAX)
    rho = _golden_section(rows, X, present, low, high)
    at_rho = _criterion(rows, X, present, rho)
    at_grid = grid[best, np.arange(patients)]
    rho = np.where(at_rho <= at_grid, rho, RHO_GRID[best])
    xtx, xty, yty, _ = _whitened_products(rows, X, present, rho)
    beta = np.linalg.solve(xtx, xty[..., None])[..., 0]
    rss = np.maximum(yty - np.sum(xty * beta, axis=1), 1e-300)
    n_obs = rows.used.sum(axis=1)
    sigma2 = rss / (n_obs - present.sum(axis=1))
    variance = sigma2 * np.linalg.inv(xtx)[:, 1, 1]
    return beta[:, 1], np.sqrt(variance)


def _design(rows: _Rows) -> tuple[np.ndarray, np.ndarray]:
    """Intercept, condition and a level per pair after her first (patients x days x terms),
    and which terms each patient has (a pair she has no analysed day in has none)."""
    levels = np.unique(rows.pair[rows.used])
    columns = [np.ones_like(rows.value), rows.treated.astype(float)]
    present = [np.ones(len(rows.value), dtype=bool)] * 2
    has = np.stack([(rows.used & (rows.pair == level)).any(axis=1) for level in levels], axis=1)
    first_level = levels[np.argmax(has, axis=1)]
    for index, level in enumerate(levels):
        columns.append((rows.pair == level).astype(float))
        present.append(has[:, index] & (level != first_level))
    X = np.stack(columns, axis=-1) * rows.used[..., None]
    present_terms = np.stack(present, axis=1)
    return X * present_terms[:, None, :], present_terms


def _whitened_products(
    rows: _Rows, X: np.ndarray, present: np.ndarray, rho: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X'X, X'y, y'y of the AR(1)-whitened rows and log|R|, per patient; an absent term's
    diagonal is 1 so that it is estimated as 0 and changes neither beta nor log|X'X|."""
    gap = np.diff(rows.day, axis=1, prepend=rows.day[:, :1])
    first = np.zeros_like(rows.used)
    first[:, 0] = True
    a = np.where(first | ~rows.used, 0.0, rho[:, None] ** np.maximum(gap, 1.0))
    scale = np.where(rows.used, 1.0 / np.sqrt(1.0 - a * a), 0.0)
    y = rows.value
    y_w = scale * (y - a * np.concatenate([np.zeros_like(y[:, :1]), y[:, :-1]], axis=1))
    previous = np.concatenate([np.zeros_like(X[:, :1]), X[:, :-1]], axis=1)
    X_w = scale[..., None] * (X - a[..., None] * previous)
    transposed = X_w.transpose(0, 2, 1)
    xtx = transposed @ X_w
    terms = np.arange(X.shape[2])
    xtx[:, terms, terms] += ~present
    xty = (transposed @ y_w[..., None])[..., 0]
    yty = np.sum(y_w * y_w, axis=1)
    log_det_r = np.sum(np.log1p(-a * a), axis=1)
    return xtx, xty, yty, log_det_r


def _criterion(rows: _Rows, X: np.ndarray, present: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """The REML criterion (-2 log restricted likelihood) of each patient at her rho."""
    xtx, xty, yty, log_det_r = _whitened_products(rows, X, present, rho)
    beta = np.linalg.solve(xtx, xty[..., None])[..., 0]
    rss = np.maximum(yty - np.sum(xty * beta, axis=1), 1e-300)
    dof = rows.used.sum(axis=1) - present.sum(axis=1)
    _, log_det_a = np.linalg.slogdet(xtx)
    return np.asarray(dof * (1.0 + np.log(2.0 * np.pi * rss / dof)) + log_det_r + log_det_a)


def _golden_section(
    rows: _Rows, X: np.ndarray, present: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """Each patient's minimiser of the criterion in [low, high], to within 1e-10."""
    a, b = low.astype(float).copy(), high.astype(float).copy()
    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)
    fc, fd = _criterion(rows, X, present, c), _criterion(rows, X, present, d)
    while np.any(b - a > _TOLERANCE):
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new_c = b - _GOLDEN * (b - a)
        new_d = a + _GOLDEN * (b - a)
        c_next = np.where(left, new_c, d)
        d_next = np.where(left, c, new_d)
        probe = np.where(left, c_next, d_next)
        value = _criterion(rows, X, present, probe)
        fd, fc = np.where(left, fc, value), np.where(left, value, fd)
        c, d = c_next, d_next
    return np.asarray((a + b) / 2.0)
