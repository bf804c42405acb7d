"""The protocol's pre-specified end points, per participant and per condition.

For each participant and each treated condition: the baseline mean, the end
point mean (the final ``endpoint_days`` days of each phase on that condition,
pooled when a condition recurs as in an N-of-1 trial) and the % improvement
(NCT00568555: (baseline - end point) / baseline x 100; sign turned for items
where higher is better). Days without an entry are left out of the means;
the number of days each mean rests on is reported beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ldntrial.data.diary_arrays import DiaryArrays
from ldntrial.data.trialdata import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.protocol.model import DiaryItem, Protocol
from ldntrial.protocol.schedule import SequencePlan, plan_sequence
from ldntrial.protocol.windows import baseline_window, endpoint_windows, percent_improvement
from ldntrial.stats.frames import mapped

__all__ = ["EndpointArrays", "condition_endpoints", "endpoint_arrays", "summarise_endpoints"]


def condition_endpoints(trial: TrialData, item: str | None = None) -> pd.DataFrame:
    """One row per participant x treated condition.

    Returns
    -------
    DataFrame with columns participant_id, sequence, condition, baseline,
    baseline_days, endpoint, endpoint_days, improvement_percent, responder_30
    (improvement of at least 30 %). Participants without any baseline or end
    point entry get NaN, never a guess.
    """
    if trial.blinded:
        raise AnalysisError(
            "end points by condition need unblinded data (the condition is masked)"
        )
    protocol = trial.protocol
    item = item or protocol.endpoints.primary_item
    definition = _diary_item(protocol, item)
    sequences = sorted(set(trial.participants["sequence"]))
    plans = {sequence: _plan(trial, sequence) for sequence in sequences}
    windows = {sequence: endpoint_windows(protocol, plans[sequence]) for sequence in sequences}
    conditions = sorted({w.condition for s in sequences for w in windows[s]})
    # Per sequence and study day: is it a baseline day, and which condition's end point is it?
    total = max(plan.total_days for plan in plans.values()) + 1
    is_baseline = np.zeros((len(sequences), total + 1), dtype=bool)
    window_of = np.full((len(sequences), total + 1), -1, dtype=np.int64)
    for index, sequence in enumerate(sequences):
        first, last = baseline_window(protocol, plans[sequence])
        is_baseline[index, first : last + 1] = True
        for window in windows[sequence]:
            window_of[index, window.first_day : window.last_day + 1] = conditions.index(
                window.condition
            )

    people = trial.participants[["participant_id", "sequence"]].reset_index(drop=True)
    person_index = {pid: k for k, pid in enumerate(people["participant_id"])}
    sequence_of = np.searchsorted(sequences, people["sequence"].to_numpy(dtype=str))
    rows = trial.diary[trial.diary["item"] == item]
    person = mapped(rows["participant_id"], person_index, default=-1, dtype=np.int64)
    day = np.minimum(rows["study_day"].to_numpy(), total)
    value = rows["value"].to_numpy()
    seq = sequence_of[person]
    n_people, n_conditions = len(people), len(conditions)

    base = is_baseline[seq, day]
    base_sum = np.bincount(person[base], weights=value[base], minlength=n_people)
    base_days = np.bincount(person[base], minlength=n_people)
    label = window_of[seq, day]
    in_window = label >= 0
    cell = person[in_window] * n_conditions + label[in_window]
    end_sum = np.bincount(cell, weights=value[in_window], minlength=n_people * n_conditions)
    end_days = np.bincount(cell, minlength=n_people * n_conditions)

    with np.errstate(invalid="ignore", divide="ignore"):
        baseline = np.where(base_days > 0, base_sum / np.maximum(base_days, 1), np.nan)
        endpoint = np.where(end_days > 0, end_sum / np.maximum(end_days, 1), np.nan)
    table = pd.DataFrame(
        {
            "participant_id": np.repeat(people["participant_id"].to_numpy(), n_conditions),
            "sequence": np.repeat(people["sequence"].to_numpy(), n_conditions),
            "condition": np.tile(conditions, n_people),
            "baseline": np.repeat(baseline, n_conditions),
            "baseline_days": np.repeat(base_days, n_conditions),
            "endpoint": endpoint,
            "endpoint_days": end_days,
        }
    )
    # A condition a sequence never visits (parallel designs) is not an end point.
    visited = {(s, w.condition) for s in sequences for w in windows[s]}
    keep = [(s, c) in visited for s, c in zip(table["sequence"], table["condition"], strict=True)]
    table = table[keep].reset_index(drop=True)
    table["improvement_percent"] = percent_improvement(
        table["baseline"].to_numpy(),
        table["endpoint"].to_numpy(),
        higher_is_better=definition.higher_is_better,
    )
    table["responder_30"] = table["improvement_percent"] >= 30
    return table


@dataclass(frozen=True)
class EndpointArrays:
    """The end points of :func:`condition_endpoints` as arrays: participant x condition.

    ``visited[k, j]`` says whether participant k's sequence has an end-point
    window on ``conditions[j]``; where it has not, ``endpoint`` and
    ``improvement`` are NaN (the table leaves that row out).
    """

    conditions: tuple[str, ...]
    baseline: np.ndarray
    endpoint: np.ndarray
    improvement: np.ndarray
    visited: np.ndarray

    def column(self, condition: str) -> np.ndarray:
        """Every participant's % improvement on ``condition`` (NaN where she has none)."""
        return self.improvement[:, self.conditions.index(condition)]


def endpoint_arrays(diaries: DiaryArrays, item: str | None = None) -> EndpointArrays:
    """:func:`condition_endpoints` of a diary held as arrays, by the same definition.

    The windows come from each group's plan, the means from the days entered;
    on whole-number ratings the sums are exact, so the values equal the
    table's to the last bit (a test holds it).
    """
    protocol = diaries.protocol
    item = item or protocol.endpoints.primary_item
    definition = _diary_item(protocol, item)
    windows = [(group, endpoint_windows(protocol, group.plan)) for group in diaries.groups]
    conditions = tuple(sorted({w.condition for _, found in windows for w in found}))
    baseline = np.full(diaries.n, np.nan)
    endpoint = np.full((diaries.n, len(conditions)), np.nan)
    visited = np.zeros((diaries.n, len(conditions)), dtype=bool)
    for group, group_windows in windows:
        values = group.ratings[item]
        first, last = baseline_window(protocol, group.plan)
        baseline[group.members] = _mean_of_entered(values[:, first - 1 : last])
        for j, condition in enumerate(conditions):
            days = [
                np.arange(w.first_day - 1, w.last_day)
                for w in group_windows
                if w.condition == condition
            ]
            if days:
                visited[group.members, j] = True
                endpoint[group.members, j] = _mean_of_entered(values[:, np.concatenate(days)])
    improvement = percent_improvement(
        baseline[:, None], endpoint, higher_is_better=definition.higher_is_better
    )
    return EndpointArrays(conditions, baseline, endpoint, np.asarray(improvement), visited)


def _diary_item(protocol: Protocol, item: str) -> DiaryItem:
    try:
        return protocol.diary_item(item)
    except KeyError:
        raise AnalysisError(f"no diary item '{item}' in {protocol.id}") from None


def _mean_of_entered(values: np.ndarray) -> np.ndarray:
    """Per row, the mean of the finite values; NaN where there are none."""
    entered = np.isfinite(values)
    days = entered.sum(axis=1)
    total = np.where(entered, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(days > 0, total / np.maximum(days, 1), np.nan)


def _plan(trial: TrialData, sequence: str) -> SequencePlan:
    # The layout of days does not depend on the dose, so none is needed here.
    return plan_sequence(trial.protocol, sequence, dose_mg=math.nan)


def summarise_endpoints(endpoints: pd.DataFrame) -> pd.DataFrame:
    """Per condition: n with an end point, mean % improvement, share improving >= 30 %."""
    valid = endpoints.dropna(subset=["improvement_percent"])
    grouped = valid.groupby("condition", observed=True)
    return pd.DataFrame(
        {
            "n": grouped.size(),
            "mean_improvement_percent": grouped["improvement_percent"].mean(),
            "share_improving_30": grouped["responder_30"].mean(),
        }
    ).reset_index()
