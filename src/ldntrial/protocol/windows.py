"""The endpoint windows of a protocol: which study days are baseline, which are each end point.

These are definitions, not statistics: the analysis and the simulator both
read them here so they cannot drift apart. See :class:`~ldntrial.protocol.model.Endpoints`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ldntrial.protocol.model import Protocol
from ldntrial.protocol.schedule import SequencePlan
from ldntrial.vocab import ConditionKind

__all__ = [
    "EndpointWindow",
    "baseline_window",
    "daily_comparison_days",
    "daily_window_days",
    "endpoint_windows",
    "improvement_over_days",
    "percent_improvement",
]


@dataclass(frozen=True)
class EndpointWindow:
    """The study days [first_day, last_day] whose mean is one end point."""

    phase: str
    period: int
    condition: str
    first_day: int
    last_day: int


def baseline_window(protocol: Protocol, plan: SequencePlan) -> tuple[int, int]:
    """First and last study day of the baseline window of ``plan``."""
    endpoints = protocol.endpoints
    for phase, first, last, _period in plan.phase_spans():
        if phase == endpoints.baseline_phase:
            days = endpoints.baseline_days or (last - first + 1)
            return last - days + 1, last
    raise KeyError(endpoints.baseline_phase)


def endpoint_windows(protocol: Protocol, plan: SequencePlan) -> list[EndpointWindow]:
    """One window per treated phase: its final ``endpoint_days`` days (or the whole phase)."""
    windows = []
    for phase, first, last, period in plan.phase_spans():
        condition = str(plan.condition[first - 1])
        if protocol.conditions[condition].kind == ConditionKind.NONE:
            continue
        days = protocol.endpoints.endpoint_days or (last - first + 1)
        windows.append(EndpointWindow(phase, period, condition, max(first, last - days + 1), last))
    return windows


def daily_window_days(protocol: Protocol) -> int:
    """Days of each condition the daily model compares: its final ``window_days``.

    Without ``window_days`` in the protocol, the shortest treated phase minus
    the run-in, so that long and short phases are compared over equal windows.
    """
    model = protocol.endpoints.daily_model
    if model.window_days is not None:
        return model.window_days
    treated = [
        phase.days
        for phase in protocol.phases
        if protocol.conditions[phase.condition].kind != ConditionKind.NONE
    ]
    return min(treated) - model.run_in_days


def daily_comparison_days(protocol: Protocol, plan: SequencePlan) -> np.ndarray:
    """Per study day of ``plan`` (index 0 is day 1): is it in the daily model's comparison?

    A treated day is compared when it is past the run-in on its condition
    (``exposure_day > run_in_days``) and among the final window days of its
    phase; the baseline phase's own window (as for the end points) is kept as
    the comparator of a study without placebo. Other untreated days are not.
    """
    model = protocol.endpoints.daily_model
    window = daily_window_days(protocol)
    compared = np.zeros(plan.total_days, dtype=bool)
    for _phase, first, last, period in plan.phase_spans():
        if period == 0:
            continue
        days = np.arange(max(first, last - window + 1), last + 1)
        settled = plan.exposure_day[days - 1] > model.run_in_days
        compared[days[settled] - 1] = True
    first, last = baseline_window(protocol, plan)
    compared[first - 1 : last] = True
    return compared


def percent_improvement(
    baseline: np.ndarray | float, endpoint: np.ndarray | float, *, higher_is_better: bool
) -> np.ndarray | float:
    """% improvement from baseline: (baseline - endpoint) / baseline x 100 where lower is better.

    The NCT00568555 definition; for items where higher is better (sleep
    quality) the sign is turned so that a positive value is always better.
    A zero baseline gives NaN (no room to improve a 0 rating).
    """
    baseline = np.asarray(baseline, dtype=float)
    change = (
        (np.asarray(endpoint, dtype=float) - baseline)
        if higher_is_better
        else (baseline - np.asarray(endpoint, dtype=float))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(baseline > 0, change / baseline * 100.0, np.nan)
    return result if result.ndim else float(result)


def improvement_over_days(
    protocol: Protocol, plan: SequencePlan, values: np.ndarray, *, higher_is_better: bool
) -> float:
    """One participant's % improvement by the protocol's end-point definition.

    ``values`` holds her daily ratings of one item by study day (index 0 is
    day 1; NaN where she entered nothing); the baseline and the end point are
    the means of the days she did enter. NaN when either window is empty: she
    has no end point (she withdrew, or entered nothing in the window).
    """
    first, last = baseline_window(protocol, plan)
    window = np.concatenate(
        [np.arange(w.first_day, w.last_day + 1) for w in endpoint_windows(protocol, plan)]
    )
    baseline_values = values[first - 1 : last]
    endpoint_values = values[window[window <= len(values)] - 1]
    if not np.isfinite(baseline_values).any() or not np.isfinite(endpoint_values).any():
        return float("nan")
    return float(
        percent_improvement(
            np.nanmean(baseline_values),
            np.nanmean(endpoint_values),
            higher_is_better=higher_is_better,
        )
    )
