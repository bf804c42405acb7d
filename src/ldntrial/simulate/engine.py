"""simulate_trial: a whole virtual trial from a protocol, as a TrialData with its truth.

Participants are drawn, allocated exactly as the protocol says (permuted
blocks, fixed order, N-of-1 pairs, or up-and-down doses decided from the
previous participant's simulated response), then simulated group by group:
everyone on the same sequence shares one day-by-day plan, so the work is a
few array operations per group, not per person.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ldntrial.data.trialdata import TrialData
from ldntrial.errors import SimulationError
from ldntrial.protocol.loader import load_protocol
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.randomisation import allocation_list, next_up_and_down_dose
from ldntrial.protocol.schedule import SequencePlan, plan_sequence
from ldntrial.protocol.windows import baseline_window, endpoint_windows, percent_improvement
from ldntrial.simulate import events
from ldntrial.simulate.outcomes import dose_factor, improvement_fraction, ratings
from ldntrial.simulate.scenarios import Scenario, get_scenario
from ldntrial.vocab import AllocationMethod, ConditionKind

__all__ = ["simulate_trial"]

Progress = Callable[[int, int], None]


def simulate_trial(
    protocol: Protocol | str | Path,
    *,
    n: int,
    seed: int,
    scenario: str | Scenario = "stanford",
    overrides: dict[str, Any] | None = None,
    timezone: str = "America/Los_Angeles",
    start_date: date = date(2026, 1, 5),
    recruitment_days: int = 180,
    sites: tuple[str, ...] = ("site-1",),
    progress: Progress | None = None,
) -> TrialData:
    """Simulate ``n`` participants of ``protocol`` under ``scenario``; reproducible from ``seed``.

    ``overrides`` changes scenario parameters (e.g. ``{"ldn_effect": 0.2}``);
    ``progress(done, total)`` is called as participants are finished. The
    result's ``truth`` records the seed, every parameter used and each
    participant's true placebo response and LDN effect.
    """
    protocol = load_protocol(protocol)
    if n < 1:
        raise SimulationError(f"n must be at least 1, got {n}")
    if not sites:
        raise SimulationError("give at least one site")
    params = get_scenario(scenario).for_protocol(protocol.id).with_overrides(overrides or {})
    rng = np.random.default_rng(seed)
    people = _draw_people(protocol, params, n, rng, sites, start_date, recruitment_days)
    report = progress or (lambda done, total: None)
    if protocol.allocation.method == AllocationMethod.UP_AND_DOWN:
        groups = _simulate_up_and_down(protocol, params, people, rng, report)
    else:
        allocation_seed = int(rng.integers(2**62))
        allocated = allocation_list(protocol, n=n, seed=allocation_seed).table["sequence"]
        people["sequence"] = allocated.to_numpy()[:n]
        groups = []
        done = 0
        for sequence in sorted(set(people["sequence"])):
            members = np.flatnonzero(people["sequence"] == sequence)
            plan = plan_sequence(protocol, sequence)
            groups.append(_simulate_group(protocol, params, plan, members, people, rng))
            done += len(members)
            report(done, n)
    trial = _assemble(protocol, params, people, groups, timezone)
    truth = _truth(params, people, seed, n)
    return TrialData.from_tables(protocol, truth=truth, **trial)


# -- participants --------------------------------------------------------------


def _draw_people(
    protocol: Protocol,
    params: Scenario,
    n: int,
    rng: np.random.Generator,
    sites: tuple[str, ...],
    start_date: date,
    recruitment_days: int,
) -> dict[str, Any]:
    rules = protocol.eligibility
    ages = np.clip(
        np.rint(rng.normal(params.age_mean, params.age_sd, n)), rules.min_age, rules.max_age
    )
    sexes = [str(sex) for sex in rules.sexes]
    sex = (
        np.where(rng.random(n) < 0.9, sexes[0], sexes[-1])
        if len(sexes) > 1
        else np.full(n, sexes[0])
    )
    esr = np.round(params.esr_median * np.exp(rng.normal(0, params.esr_log_sd, n)), 1)
    offsets = rng.integers(0, max(recruitment_days, 1), n)
    people: dict[str, Any] = {
        "participant_id": np.array([f"P{k:05d}" for k in range(1, n + 1)], dtype=object),
        "site": np.array([sites[k % len(sites)] for k in range(n)], dtype=object),
        "age": ages.astype(int),
        "sex": sex.astype(object),
        "esr": esr,
        "enrolled_on": np.datetime64(start_date, "D") + offsets.astype("timedelta64[D]"),
        "placebo": rng.normal(params.placebo_response, params.placebo_sd, n),
        "ldn_at_reference": params.ldn_effect
        + params.esr_slope * np.log(esr / params.esr_median)
        + rng.normal(0, params.ldn_effect_sd, n),
        "dose_mg": np.full(n, np.nan),
        "pressure": np.maximum(
            rng.normal(params.pressure_kpa_mean, params.pressure_kpa_sd, n), 30
        ),
        "heat": rng.normal(params.heat_cel_mean, params.heat_cel_sd, n),
        "cold": rng.normal(params.cold_cel_mean, params.cold_cel_sd, n),
    }
    for item in protocol.diary.items:
        people[f"level:{item.id}"] = np.clip(
            rng.normal(params.baseline_mean, params.baseline_sd, n), 5, 98
        )
    for panel in protocol.labs:
        for analyte in panel.analytes:
            if analyte != "esr":
                people[f"cytokine:{analyte}"] = rng.normal(
                    params.cytokine_log_median, params.cytokine_log_sd_between, n
                )
    return people


# -- one group of participants on the same plan ----------------------------------


def _simulate_group(
    protocol: Protocol,
    params: Scenario,
    plan: SequencePlan,
    members: np.ndarray,
    people: dict[str, Any],
    rng: np.random.Generator,
) -> dict[str, Any]:
    m, days = len(members), plan.total_days
    placebo = people["placebo"][members]
    ldn = people["ldn_at_reference"][members]
    base_improvement = improvement_fraction(plan, params, placebo, ldn)
    last_day = _last_days(protocol, plan, m, params, rng)
    observed = (np.arange(1, days + 1)[None, :] <= last_day[:, None]) & (
        rng.random((m, days)) >= params.missing_day_rate
    )
    primary = protocol.endpoints.primary_item
    values = {}
    for item in protocol.diary.items:
        ratio = 1.0 if item.id == primary else params.secondary_effect_ratio
        level = people[f"level:{item.id}"][members]
        item_values = ratings(
            level, base_improvement * ratio, params, rng, higher_is_better=item.higher_is_better
        )
        values[item.id] = np.where(observed, item_values, np.nan)
    member_people = _select(people, members)
    return {
        "plan": plan,
        "members": members,
        "last_day": last_day,
        "diary": values,
        "visits": events.visits(
            protocol, plan, member_people, base_improvement, last_day, params, rng
        ),
        "labs": events.labs(protocol, plan, member_people, last_day, params, rng),
        "adverse_events": events.adverse_events(plan, last_day, params, rng),
        "blinding_guesses": events.blinding_guesses(plan, last_day, params, rng),
    }


def _select(people: dict[str, Any], members: np.ndarray) -> dict[str, Any]:
    """The per-participant arrays of ``people`` restricted to ``members``."""
    n = len(people["participant_id"])
    return {
        key: value[members] if isinstance(value, np.ndarray) and len(value) == n else value
        for key, value in people.items()
    }


def _last_days(
    protocol: Protocol, plan: SequencePlan, m: int, params: Scenario, rng: np.random.Generator
) -> np.ndarray:
    """Each participant's last study day: the end, or a day after baseline for a dropout."""
    days = plan.total_days
    first_treated = int(np.argmax(plan.kind != ConditionKind.NONE)) + 1
    drops = rng.random(m) < params.dropout_rate
    dropout_day = (
        rng.integers(first_treated, days, m) if first_treated < days else np.full(m, days)
    )
    return np.where(drops, dropout_day, days)


def _simulate_up_and_down(
    protocol: Protocol,
    params: Scenario,
    people: dict[str, Any],
    rng: np.random.Generator,
    report: Progress,
) -> list[dict[str, Any]]:
    """Participants one at a time: each one's simulated response sets the next dose."""
    sequence = protocol.all_sequences[0].name
    rule = next(
        r for r in protocol.endpoints.responders if r.id == protocol.allocation.response_rule
    )
    item = next(i for i in protocol.diary.items if i.id == rule.item)
    n = len(people["participant_id"])
    people["sequence"] = np.full(n, sequence, dtype=object)
    reference = people["ldn_at_reference"].copy()
    history: list[tuple[float, bool]] = []
    groups = []
    for person in range(n):
        dose = next_up_and_down_dose(protocol, history)
        people["dose_mg"][person] = dose
        plan = plan_sequence(protocol, sequence, dose_mg=dose)
        group = _simulate_group(protocol, params, plan, np.array([person]), people, rng)
        improvement = _improvement(
            protocol, plan, group["diary"][item.id][0], item.higher_is_better
        )
        history.append((dose, bool(improvement >= rule.min_improvement_percent)))
        groups.append(group)
        report(person + 1, n)
    people["ldn_at_dose"] = reference * dose_factor(people["dose_mg"], params)
    people["responded"] = np.array([responded for _dose, responded in history])
    return groups


def _improvement(
    protocol: Protocol, plan: SequencePlan, values: np.ndarray, higher_is_better: bool
) -> float:
    """% improvement of one participant's daily values, by the protocol's endpoint definition."""
    first, last = baseline_window(protocol, plan)
    baseline = (
        np.nanmean(values[first - 1 : last])
        if np.isfinite(values[first - 1 : last]).any()
        else np.nan
    )
    window_days = np.concatenate(
        [np.arange(w.first_day, w.last_day + 1) for w in endpoint_windows(protocol, plan)]
    )
    endpoint_values = values[window_days - 1]
    endpoint = np.nanmean(endpoint_values) if np.isfinite(endpoint_values).any() else np.nan
    return float(percent_improvement(baseline, endpoint, higher_is_better=higher_is_better))


# -- assembling the tables ---------------------------------------------------------


def _stack(columns: dict[str, list]) -> dict[str, np.ndarray]:
    return {
        key: np.concatenate(parts) if parts else np.array([], dtype=object)
        for key, parts in columns.items()
    }


def _assemble(
    protocol: Protocol,
    params: Scenario,
    people: dict[str, Any],
    groups: list[dict[str, Any]],
    timezone: str,
) -> dict[str, pd.DataFrame]:
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
        }
    )
    tables = {
        "participants": participants,
        "diary": _diary_table(protocol, groups, ids, enrolled),
        "visits": _long_table(groups, "visits", ids, enrolled, protocol),
        "labs": _labs_table(groups, ids, enrolled, timezone),
        "adverse_events": _adverse_events_table(groups, ids, enrolled),
        "blinding_guesses": _guesses_table(groups, ids),
    }
    return {name: table for name, table in tables.items() if table is not None}


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=categories)


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


def _long_table(
    groups: list[dict[str, Any]],
    key: str,
    ids: np.ndarray,
    enrolled: np.ndarray,
    protocol: Protocol,
) -> pd.DataFrame:
    units = {m.id: m.unit for m in protocol.visits.measures} if protocol.visits else {}
    frames = []
    for group in groups:
        data = _stack(group[key])
        if not len(data["person"]):
            continue
        person = group["members"][data["person"].astype(int)]
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
) -> pd.DataFrame:
    frames = []
    for group in groups:
        data = _stack(group["labs"])
        if not len(data["person"]):
            continue
        person = group["members"][data["person"].astype(int)]
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
) -> pd.DataFrame:
    frames = []
    for group in groups:
        data = _stack(group["adverse_events"])
        if not len(data["person"]):
            continue
        plan: SequencePlan = group["plan"]
        person = group["members"][data["person"].astype(int)]
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


def _guesses_table(groups: list[dict[str, Any]], ids: np.ndarray) -> pd.DataFrame:
    frames = []
    for group in groups:
        data = _stack(group["blinding_guesses"])
        if not len(data["person"]):
            continue
        person = group["members"][data["person"].astype(int)]
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


def _truth(params: Scenario, people: dict[str, Any], seed: int, n: int) -> dict[str, Any]:
    ldn = people.get("ldn_at_dose", people["ldn_at_reference"])
    return {
        "seed": seed,
        "n": n,
        "scenario": params.name,
        "parameters": params.model_dump(mode="json", exclude={"per_protocol"}),
        "participants": {
            pid: {
                "placebo_response": float(p),
                "ldn_effect": float(effect),
            }
            for pid, p, effect in zip(
                people["participant_id"], people["placebo"], ldn, strict=True
            )
        },
    }
