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

__all__ = ["EndpointWindow", "baseline_window", "endpoint_windows", "percent_improvement"]


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
