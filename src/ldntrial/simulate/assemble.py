"""Turning simulated arrays into the TrialData tables.

The engine simulates groups of participants who share a sequence plan and
keeps their records as column arrays indexed by position in the group; this
module maps them back to participants, dates and labels, and builds the six
tables in contract order (sorted by participant, then day).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any

import numpy as np
import pandas as pd

from ldntrial.data.trialdata import TABLE_NAMES
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.schedule import SequencePlan
from ldntrial.vocab import ConditionKind

__all__ = ["assemble_tables"]


def _stack(columns: dict[str, list[Any]]) -> dict[str, np.ndarray]:
    return {
        key: np.concatenate(parts) if parts else np.array([], dtype=object)
        for key, parts in columns.items()
    }


def _records(
    groups: list[dict[str, Any]], key: str
) -> Iterator[tuple[dict[str, Any], dict[str, np.ndarray], np.ndarray]]:
    """(group, its stacked ``key`` columns, participant positions) for each group with rows."""
    for group in groups:
        data = _stack(group[key])
        if len(data["person"]):
            yield group, data, group["members"][data["person"].astype(int)]


def assemble_tables(
    protocol: Protocol,
    people: dict[str, Any],
    groups: list[dict[str, Any]],
    timezone: str,
    wanted: Collection[str] = TABLE_NAMES,
) -> dict[str, pd.DataFrame]:
    """The ``wanted`` TrialData tables of a simulated trial (participants always)."""
    ids = people["participant_id"]
    last_days = np.empty(len(ids), dtype=int)
    total_days = np.empty(len(ids), dtype=int)
    for group in groups:
        last_days[group["members"]] = group["last_day"]
        total_days[group["members"]] = group["plan"].total_days
    enrolled = people["enrolled_on"]
    withdrawn = last_days < total_days
    participants = pd.DataFrame(
        {
            "participant_id": ids,
            "site": people["site"],
            "sequence": people["sequence"],
            "age": people["age"],
            "sex": people["sex"],
            "esr_baseline": people["esr"],
            "enrolled_on": enrolled,
            "status": np.where(withdrawn, "withdrawn", "completed"),
            "withdrawn_on": np.where(
                withdrawn,
                enrolled + (last_days - 1).astype("timedelta64[D]"),
                np.datetime64("NaT"),
            ),
            "dose_mg": people["dose_mg"],
            # A simulated dropout just stops: CONSORT's "lost to follow-up".
            "withdrawal_reason": np.where(
                withdrawn, "lost_to_follow_up", np.array(None, dtype=object)
            ),
        }
    )
    builders: dict[str, Callable[[], pd.DataFrame | None]] = {
        "diary": lambda: _diary_table(protocol, groups, ids, enrolled),
        "visits": lambda: _visits_table(groups, ids, enrolled, protocol),
        "labs": lambda: _labs_table(groups, ids, enrolled, timezone),
        "adverse_events": lambda: _adverse_events_table(groups, ids, enrolled),
        "blinding_guesses": lambda: _guesses_table(groups, ids),
    }
    tables: dict[str, pd.DataFrame | None] = {"participants": participants}
    tables.update({name: build() for name, build in builders.items() if name in wanted})
    return {name: table for name, table in tables.items() if table is not None}


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories))


def _diary_table(
    protocol: Protocol, groups: list[dict[str, Any]], ids: np.ndarray, enrolled: np.ndarray
) -> pd.DataFrame:
    items = sorted(protocol.diary_item_ids)
    phases = sorted(phase.name for phase in protocol.phases)
    conditions = sorted(protocol.conditions)
    parts = []
    for group in groups:
        plan: SequencePlan = group["plan"]
        stacked = np.stack([group["diary"][item] for item in items], axis=-1)  # (m, days, items)
        observed = np.isfinite(stacked)
        person, day, item = np.nonzero(observed)
        phase_codes = np.searchsorted(phases, plan.phase.astype(str))
        condition_codes = np.searchsorted(conditions, plan.condition.astype(str))
        # Narrow integer types keep the 8-million-row case light in memory traffic.
        parts.append(
            {
                "person": group["members"][person].astype(np.int32),
                "day": (day + 1).astype(np.int16),
                "phase": phase_codes.astype(np.int16)[day],
                "condition": condition_codes.astype(np.int16)[day],
                "period": plan.period.astype(np.int16)[day],
                "item": item.astype(np.int16),
                "value": stacked[observed],
            }
        )
    data = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    # Rows are in (day, item) order within each person; a stable sort on the
    # person (a radix sort for small ints) puts the people in order too.
    person_dtype = np.uint16 if len(ids) < 2**16 else np.int32
    order = np.argsort(data["person"].astype(person_dtype), kind="stable")
    data = {key: value[order] for key, value in data.items()}
    return pd.DataFrame(
        {
            "participant_id": _categorical(data["person"], list(ids)),
            "date": (enrolled[data["person"]] + (data["day"] - 1).astype("timedelta64[D]")).astype(
                "datetime64[s]"
            ),
            "study_day": data["day"].astype("int64"),
            "phase": _categorical(data["phase"], phases),
            "condition": _categorical(data["condition"], conditions),
            "period": data["period"].astype("int64"),
            "item": _categorical(data["item"], items),
            "value": data["value"],
        }
    )


def _phase_columns(group: dict[str, Any], days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    plan: SequencePlan = group["plan"]
    index = np.minimum(days, plan.total_days) - 1
    return plan.phase[index], plan.period[index]


def _visits_table(
    groups: list[dict[str, Any]], ids: np.ndarray, enrolled: np.ndarray, protocol: Protocol
) -> pd.DataFrame | None:
    units = {m.id: m.unit for m in protocol.visits.measures} if protocol.visits else {}
    frames = []
    for group, data, person in _records(groups, "visits"):
        days = data["day"].astype(int)
        phase, period = _phase_columns(group, days)
        frames.append(
            pd.DataFrame(
                {
                    "participant_id": ids[person],
                    "visit": data["visit"].astype(int),
                    "date": enrolled[person] + (days - 1).astype("timedelta64[D]"),
                    "study_day": days,
                    "phase": phase,
                    "period": period,
                    "measure": data["measure"],
                    "value": data["value"].astype(float),
                    "unit": [units[m] for m in data["measure"]],
                }
            )
        )
    return _sorted(frames, ["participant_id", "study_day", "measure"])


def _labs_table(
    groups: list[dict[str, Any]], ids: np.ndarray, enrolled: np.ndarray, timezone: str
) -> pd.DataFrame | None:
    frames = []
    for group, data, person in _records(groups, "labs"):
        days = data["day"].astype(int)
        phase, period = _phase_columns(group, days)
        local = pd.DatetimeIndex(
            enrolled[person] + (days - 1).astype("timedelta64[D]")
        ) + pd.Timedelta(hours=8)
        frames.append(
            pd.DataFrame(
                {
                    "participant_id": ids[person],
                    "sampled_at": local.tz_localize(
                        timezone, nonexistent="shift_forward", ambiguous=True
                    ).tz_convert("UTC"),
                    "study_day": days,
                    "phase": phase,
                    "period": period,
                    "panel": data["panel"],
                    "analyte": data["analyte"],
                    "value": data["value"].astype(float),
                    "unit": data["unit"],
                }
            )
        )
    return _sorted(frames, ["participant_id", "study_day", "panel", "analyte"])


def _adverse_events_table(
    groups: list[dict[str, Any]], ids: np.ndarray, enrolled: np.ndarray
) -> pd.DataFrame | None:
    frames = []
    for group, data, person in _records(groups, "adverse_events"):
        plan: SequencePlan = group["plan"]
        days = data["day"].astype(int)
        frames.append(
            pd.DataFrame(
                {
                    "participant_id": ids[person],
                    "term": data["term"],
                    "onset": enrolled[person] + (days - 1).astype("timedelta64[D]"),
                    "study_day": days,
                    "phase": plan.phase[days - 1],
                    "condition": plan.condition[days - 1],
                    "period": plan.period[days - 1],
                    "severity": data["severity"],
                    "serious": data["serious"].astype(bool),
                    "related": np.where(
                        plan.kind[days - 1] == ConditionKind.LDN, "probable", "possible"
                    ),
                }
            )
        )
    return _sorted(frames, ["participant_id", "study_day", "term"])


def _guesses_table(groups: list[dict[str, Any]], ids: np.ndarray) -> pd.DataFrame | None:
    frames = []
    for _group, data, person in _records(groups, "blinding_guesses"):
        frames.append(
            pd.DataFrame(
                {
                    "participant_id": ids[person],
                    "phase": data["phase"],
                    "period": data["period"].astype(int),
                    "guess": data["guess"],
                }
            )
        )
    return _sorted(frames, ["participant_id", "period"])


def _sorted(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame | None:
    if not frames:
        return None
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(keys, kind="stable").reset_index(drop=True)
