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

import numpy as np
import pandas as pd

from ldntrial.data.trialdata import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.protocol.schedule import plan_sequence
from ldntrial.protocol.windows import baseline_window, endpoint_windows, percent_improvement
from ldntrial.stats.frames import mapped

__all__ = ["condition_endpoints", "summarise_endpoints"]


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
    definition = next((i for i in protocol.diary.items if i.id == item), None)
    if definition is None:
        raise AnalysisError(f"no diary item '{item}' in {protocol.id}")
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


def _plan(trial: TrialData, sequence: str):
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
