"""The report's own summaries of a TrialData: Table 1 and the daily courses the figures draw.

The analyses live in :mod:`ldntrial.stats`; what is here only describes the
data (counts, means, spreads), so that each number in the report can be
traced to either a descriptive table or an analysis result.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ldntrial.data.trialdata import TrialData
from ldntrial.protocol.schedule import plan_sequence
from ldntrial.stats.frames import mapped

__all__ = ["daily_course", "day_in_phase", "table_one"]

ESR_CUT_MM_HR = 20.0  # the pilot's split (Younger & Mackey 2009)


def day_in_phase(trial: TrialData) -> pd.Series:
    """For each diary row, its day within the phase it falls in (1 = the phase's first day)."""
    offsets: dict[str, np.ndarray] = {}
    for sequence in set(trial.participants["sequence"]):
        plan = plan_sequence(trial.protocol, sequence, dose_mg=math.nan)
        first_of_day = np.empty(plan.total_days, dtype=np.int64)
        for _phase, first, last, _period in plan.phase_spans():
            first_of_day[first - 1 : last] = first
        offsets[sequence] = first_of_day
    sequence_of = dict(
        zip(trial.participants["participant_id"], trial.participants["sequence"], strict=True)
    )
    sequences = mapped(trial.diary["participant_id"], sequence_of).astype(str)
    day = trial.diary["study_day"].to_numpy()
    result = np.empty(len(day), dtype=np.int64)
    for sequence, first_of_day in offsets.items():
        rows = sequences == sequence
        index = np.minimum(day[rows], len(first_of_day)) - 1
        result[rows] = day[rows] - first_of_day[index] + 1
    return pd.Series(result, index=trial.diary.index, name="day_in_phase")


def daily_course(trial: TrialData, item: str) -> pd.DataFrame:
    """Mean ``item`` rating per series and day within its phase, with a normal 95 % CI.

    A series is a treated condition (all its phases pooled: LDN, placebo) or
    an untreated phase on its own (baseline, washout and follow-up differ).
    Columns: series, kind, day_in_phase, n, mean, ci_lower, ci_upper. Days
    with fewer than 3 ratings are left out (a mean of one or two is noise).
    """
    protocol = trial.protocol
    rows = trial.diary["item"] == item
    conditions = trial.diary.loc[rows, "condition"].astype(str).to_numpy()
    phases = trial.diary.loc[rows, "phase"].astype(str).to_numpy()
    kinds = np.array([str(protocol.conditions[c].kind) for c in conditions], dtype=object)
    untreated = kinds == "none"
    phase_labels = {p.name: p.label or p.name for p in protocol.phases}
    condition_labels = {key: c.label or key for key, c in protocol.conditions.items()}
    series = np.where(
        untreated,
        [phase_labels[p] for p in phases],
        [condition_labels[c] for c in conditions],
    )
    frame = pd.DataFrame(
        {
            "series": series,
            "kind": kinds,
            "day_in_phase": day_in_phase(trial)[rows].to_numpy(),
            "value": trial.diary.loc[rows, "value"].to_numpy(),
        }
    )
    grouped = frame.groupby(["series", "kind", "day_in_phase"])["value"]
    course = grouped.agg(["size", "mean", "std"]).reset_index()
    course = course.rename(columns={"size": "n"})
    course = course[course["n"] >= 3].reset_index(drop=True)
    half = 1.96 * course["std"] / np.sqrt(course["n"])
    course["ci_lower"] = course["mean"] - half
    course["ci_upper"] = course["mean"] + half
    return course.drop(columns="std")


def table_one(trial: TrialData, baseline: pd.DataFrame) -> pd.DataFrame:
    """Baseline characteristics by sequence (or arm) and overall, formatted for reading.

    ``baseline`` has one row per participant with a ``baseline`` column per
    diary item (from :func:`~ldntrial.stats.endpoints.condition_endpoints`).
    Rows: n, age, women, ESR, ESR above 20 mm/hr and each diary item's
    baseline mean; columns: each group, then All.
    """
    people = trial.participants.merge(baseline, on="participant_id", how="left")
    groups = [(str(s), people[people["sequence"] == s]) for s in sorted(set(people["sequence"]))]
    if len(groups) > 1:
        groups.append(("All", people))
    items = [column for column in baseline.columns if column != "participant_id"]
    rows: dict[str, list[str]] = {"Participants, n": []}
    labels = {
        "age": "Age, years, mean (SD)",
        "women": "Women, n (%)",
        "esr": "ESR, mm/hr, median (IQR)",
        "esr_high": f"ESR above {ESR_CUT_MM_HR:g} mm/hr, n (%)",
    }
    for label in labels.values():
        rows[label] = []
    for item in items:
        rows[f"Baseline {item}, 0-100, mean (SD)"] = []
    for _name, group in groups:
        n = len(group)
        rows["Participants, n"].append(str(n))
        rows[labels["age"]].append(_mean_sd(group["age"]))
        rows[labels["women"]].append(_count_share(int((group["sex"] == "female").sum()), n))
        esr = group["esr_baseline"].dropna()
        rows[labels["esr"]].append(
            f"{esr.median():.0f} ({esr.quantile(0.25):.0f}-{esr.quantile(0.75):.0f})"
            if len(esr)
            else "-"
        )
        rows[labels["esr_high"]].append(
            _count_share(int((esr > ESR_CUT_MM_HR).sum()), len(esr)) if len(esr) else "-"
        )
        for item in items:
            rows[f"Baseline {item}, 0-100, mean (SD)"].append(_mean_sd(group[item]))
    return pd.DataFrame(rows, index=[name for name, _ in groups]).T


def _mean_sd(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return "-"
    spread = f" ({values.std():.1f})" if len(values) > 1 else ""
    return f"{values.mean():.1f}{spread}"


def _count_share(count: int, n: int) -> str:
    return f"{count} ({count / n:.0%})" if n else "-"
