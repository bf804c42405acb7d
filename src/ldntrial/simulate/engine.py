"""simulate_trial: a whole virtual trial from a protocol, as a TrialData with its truth.

Participants are drawn, allocated exactly as the protocol says (permuted
blocks, fixed order, N-of-1 pairs, or up-and-down doses decided from the
previous participant's simulated response), then simulated group by group:
everyone on the same sequence shares one day-by-day plan, so the work is a
few array operations per group, not per person.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from ldntrial.data.diary_arrays import DiaryArrays, DiaryGroup
from ldntrial.data.trialdata import TABLE_NAMES, TrialData
from ldntrial.errors import SimulationError
from ldntrial.protocol.loader import load_protocol
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.randomisation import (
    allocation_list,
    next_up_and_down_dose,
    up_and_down_finished,
)
from ldntrial.protocol.schedule import SequencePlan, plan_sequence
from ldntrial.protocol.windows import improvement_over_days
from ldntrial.simulate import events
from ldntrial.simulate.assemble import assemble_tables
from ldntrial.simulate.dose_response import calibrated_for_up_and_down, true_effective_doses
from ldntrial.simulate.outcomes import (
    dose_factor,
    expected_ratings,
    improvement_fraction,
    ratings,
)
from ldntrial.simulate.scenarios import Scenario, get_scenario
from ldntrial.vocab import AllocationMethod, ConditionKind

__all__ = [
    "ExpectedDiary",
    "expected_diary",
    "simulate_diaries",
    "simulate_trial",
]

Progress = Callable[[int, int], None]

EVENT_TABLES = ("visits", "labs", "adverse_events", "blinding_guesses")


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
    tables: Collection[str] = TABLE_NAMES,
) -> TrialData:
    """Simulate ``n`` participants of ``protocol`` under ``scenario``; reproducible from ``seed``.

    ``overrides`` changes scenario parameters (e.g. ``{"ldn_effect": 0.2}``);
    ``progress(done, total)`` is called as participants are finished. The
    result's ``truth`` records the seed, every parameter used and each
    participant's true placebo response and LDN effect.

    ``tables`` names the tables to build (participants always; the rest are
    left empty): a power simulation that needs only the diary skips the
    others' simulation. Each event table draws from its own random stream
    (spawned from ``seed``), so the tables built are the same whichever
    others are asked for.
    """
    protocol = load_protocol(protocol)
    if n < 1:
        raise SimulationError(f"n must be at least 1, got {n}")
    if not sites:
        raise SimulationError("give at least one site")
    unknown = sorted(set(tables) - set(TABLE_NAMES))
    if unknown:
        raise SimulationError(
            f"unknown table(s) {', '.join(unknown)}; tables are {', '.join(TABLE_NAMES)}"
        )
    params = calibrated_for_up_and_down(
        protocol, get_scenario(scenario).for_protocol(protocol.id).with_overrides(overrides or {})
    )
    rng = np.random.default_rng(seed)
    event_streams = np.random.SeedSequence(seed).spawn(len(EVENT_TABLES))
    event_rngs = {
        name: np.random.default_rng(stream)
        for name, stream in zip(EVENT_TABLES, event_streams, strict=True)
        if name in tables
    }
    people = _draw_people(protocol, params, n, rng, sites, start_date, recruitment_days)
    report = progress or (lambda done, total: None)
    if protocol.allocation.method == AllocationMethod.UP_AND_DOWN:
        groups = _simulate_up_and_down(protocol, params, people, rng, event_rngs, report)
    else:
        groups = _simulate_allocated(protocol, params, people, rng, event_rngs, report)
    trial = assemble_tables(protocol, people, groups, timezone, tables)
    # An up-and-down study may stop before n (its stopping rule): count who took part.
    truth = _truth(
        params, people, seed, len(people["participant_id"]), protocol.endpoints.primary_item
    )
    if protocol.allocation.method == AllocationMethod.UP_AND_DOWN:
        truth["effective_doses_mg"] = {
            f"ED{round(share * 100)}": dose
            for share, dose in true_effective_doses(protocol, params).items()
        }
    # Every keyword given by name: mypy would match **trial against blinded otherwise.
    return TrialData.from_tables(protocol, blinded=False, truth=truth, **trial)


def simulate_diaries(
    protocol: Protocol | str | Path,
    *,
    n: int,
    seed: int,
    scenario: str | Scenario = "stanford",
    overrides: dict[str, Any] | None = None,
) -> DiaryArrays:
    """The diaries of :func:`simulate_trial` (same arguments, same seed), as arrays.

    What a power simulation needs and no more: the same participants and the
    same ratings that :func:`simulate_trial` records in its diary table,
    without the cost of building tables for every trial.

    Not for up-and-down designs, whose participants are simulated one by one
    as the doses are decided.
    """
    protocol = load_protocol(protocol)
    if protocol.allocation.method == AllocationMethod.UP_AND_DOWN:
        raise SimulationError("an up-and-down design is simulated whole, by simulate_trial")
    if n < 1:
        raise SimulationError(f"n must be at least 1, got {n}")
    params = get_scenario(scenario).for_protocol(protocol.id).with_overrides(overrides or {})
    rng = np.random.default_rng(seed)
    people = _draw_people(protocol, params, n, rng, ("site-1",), date(2026, 1, 5), 180)
    groups = _simulate_allocated(protocol, params, people, rng, {}, lambda done, total: None)
    return DiaryArrays(
        protocol=protocol,
        n=n,
        groups=tuple(
            DiaryGroup(plan=group["plan"], members=group["members"], ratings=group["diary"])
            for group in groups
        ),
        truth={
            "ldn_effect": people["ldn_at_reference"],
            "primary_level": people[f"level:{protocol.endpoints.primary_item}"],
        },
    )


@dataclass(frozen=True)
class ExpectedDiary:
    """Simulated participants' *expected* daily ratings under every sequence: no noise drawn.

    ``ratings[sequence][item]`` is (participants x study days of that
    sequence): the mean over the day-to-day noise of what
    :func:`simulate_trial` would record had she been given that sequence, with
    no day missed and no dropout. ``sequence`` is each one's actual allocation
    and ``shares`` how often the allocation gives each sequence. The true value
    of an analysis' estimand is a function of these, so a validation can know
    it without running the analysis it checks.
    """

    sequence: np.ndarray
    shares: dict[str, float]
    plans: dict[str, SequencePlan]
    ratings: dict[str, dict[str, np.ndarray]]


def expected_diary(
    protocol: Protocol | str | Path,
    *,
    n: int,
    seed: int,
    scenario: str | Scenario = "stanford",
    overrides: dict[str, Any] | None = None,
    items: Collection[str] | None = None,
) -> ExpectedDiary:
    """The expected diaries of ``n`` participants drawn as :func:`simulate_trial` draws them.

    ``items`` limits the diary items computed (all by default). Not for
    up-and-down designs, whose doses depend on earlier responses.
    """
    protocol = load_protocol(protocol)
    if protocol.allocation.method == AllocationMethod.UP_AND_DOWN:
        raise SimulationError("an up-and-down design has no fixed plan to take expectations of")
    params = get_scenario(scenario).for_protocol(protocol.id).with_overrides(overrides or {})
    rng = np.random.default_rng(seed)
    people = _draw_people(protocol, params, n, rng, ("site-1",), date(2026, 1, 5), 180)
    allocated = allocation_list(protocol, n=n, seed=int(rng.integers(2**62))).table["sequence"]
    sequence = allocated.to_numpy()[:n]
    names = [s.name for s in protocol.all_sequences]
    plans = {name: plan_sequence(protocol, name) for name in names}
    counts = {name: int(np.sum(sequence == name)) for name in names}
    wanted = [item for item in protocol.diary.items if items is None or item.id in items]
    primary = protocol.endpoints.primary_item
    ratings: dict[str, dict[str, np.ndarray]] = {}
    for name, plan in plans.items():
        improvement = improvement_fraction(
            plan, params, people["placebo"], people["ldn_at_reference"]
        )
        ratings[name] = {
            item.id: expected_ratings(
                people[f"level:{item.id}"],
                improvement * (1.0 if item.id == primary else params.secondary_effect_ratio),
                params,
                higher_is_better=item.higher_is_better,
            )
            for item in wanted
        }
    return ExpectedDiary(
        sequence=sequence,
        shares={name: counts[name] / n for name in names},
        plans=plans,
        ratings=ratings,
    )


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
    # Where both sexes may take part, nine in ten are women (ASSUMED; fibromyalgia
    # is diagnosed mostly in women, and the published LDN trials enrolled women).
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


def _simulate_allocated(
    protocol: Protocol,
    params: Scenario,
    people: dict[str, Any],
    rng: np.random.Generator,
    event_rngs: dict[str, np.random.Generator],
    report: Progress,
) -> list[dict[str, Any]]:
    """Allocate everyone by the protocol's list, then simulate each sequence's group at once."""
    n = len(people["participant_id"])
    allocation_seed = int(rng.integers(2**62))
    allocated = allocation_list(protocol, n=n, seed=allocation_seed).table["sequence"]
    people["sequence"] = allocated.to_numpy()[:n]
    groups = []
    done = 0
    for sequence in sorted(set(people["sequence"])):
        members = np.flatnonzero(people["sequence"] == sequence)
        plan = plan_sequence(protocol, sequence)
        groups.append(_simulate_group(protocol, params, plan, members, people, rng, event_rngs))
        done += len(members)
        report(done, n)
    return groups


def _simulate_group(
    protocol: Protocol,
    params: Scenario,
    plan: SequencePlan,
    members: np.ndarray,
    people: dict[str, Any],
    rng: np.random.Generator,
    event_rngs: dict[str, np.random.Generator],
) -> dict[str, Any]:
    """Diary values for ``members`` from ``rng``; each table in ``event_rngs`` from its own."""
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
    simulators = {
        "visits": lambda r: events.visits(
            protocol, plan, member_people, base_improvement, last_day, params, r
        ),
        "labs": lambda r: events.labs(protocol, plan, member_people, last_day, params, r),
        "adverse_events": lambda r: events.adverse_events(plan, last_day, params, r),
        "blinding_guesses": lambda r: events.blinding_guesses(plan, last_day, params, r),
    }
    group = {"plan": plan, "members": members, "last_day": last_day, "diary": values}
    group.update({name: simulators[name](r) for name, r in event_rngs.items()})
    return group


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
    event_rngs: dict[str, np.random.Generator],
    report: Progress,
) -> list[dict[str, Any]]:
    """Participants one at a time: each one's simulated response sets the next dose."""
    sequence = protocol.all_sequences[0].name
    rule = protocol.response_rule
    assert rule is not None  # the rules require one of an up-and-down design
    item = protocol.diary_item(rule.item)
    n = len(people["participant_id"])
    people["sequence"] = np.full(n, sequence, dtype=object)
    history: list[tuple[float, bool]] = []
    groups = []
    enrolled = 0
    for person in range(n):
        if up_and_down_finished(protocol, history):
            break  # the stopping rule: nobody else is enrolled
        dose = next_up_and_down_dose(protocol, history)
        people["dose_mg"][person] = dose
        plan = plan_sequence(protocol, sequence, dose_mg=dose)
        group = _simulate_group(
            protocol, params, plan, np.array([person]), people, rng, event_rngs
        )
        improvement = improvement_over_days(
            protocol, plan, group["diary"][item.id][0], higher_is_better=item.higher_is_better
        )
        # A woman with no end point (she withdrew) does not move the ladder: the
        # next one takes her dose, as the published trial replaced its 2 withdrawals.
        if np.isfinite(improvement):
            history.append((dose, bool(improvement >= rule.min_improvement_percent)))
        groups.append(group)
        enrolled += 1
        report(enrolled, n)
    if enrolled < n:
        people.update(_select(people, np.arange(enrolled)))
    people["ldn_at_dose"] = people["ldn_at_reference"] * dose_factor(people["dose_mg"], params)
    return groups


def _truth(
    params: Scenario, people: dict[str, Any], seed: int, n: int, primary_item: str
) -> dict[str, Any]:
    ldn = people.get("ldn_at_dose", people["ldn_at_reference"])
    # With the primary item's personal level, the steady-state LDN - placebo
    # difference in points is -primary_level x ldn_effect (outcomes.ratings).
    return {
        "seed": seed,
        "n": n,
        "scenario": params.name,
        "parameters": params.model_dump(mode="json", exclude={"per_protocol"}),
        "participants": {
            pid: {
                "placebo_response": float(p),
                "ldn_effect": float(effect),
                "primary_level": float(level),
            }
            for pid, p, effect, level in zip(
                people["participant_id"],
                people["placebo"],
                ldn,
                people[f"level:{primary_item}"],
                strict=True,
            )
        },
    }
