"""What happens around the diary in a virtual trial: visits, blood draws, side effects, guesses.

Each function simulates one kind of record for a group of participants on
the same plan and returns a dict of equal-length column arrays; the engine
stacks the groups into TrialData tables. Day indices are 1-based study days.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ldntrial.protocol.model import Protocol, VisitMeasure
from ldntrial.protocol.schedule import SequencePlan, kit_runs, lab_draws, visit_plan
from ldntrial.simulate.outcomes import exposure_curve
from ldntrial.simulate.scenarios import Scenario
from ldntrial.vocab import Blinding, ConditionKind

__all__ = [
    "REDUCED_ON_LDN",
    "adverse_events",
    "blinding_guesses",
    "labs",
    "visits",
    "weekly_rates",
]

# Analytes reported lower after 8 weeks of LDN: Parkitny & Younger 2017 (17
# analytes) and the APS 2015 abstract (adds MCP-3, ENA-78, resistin).
REDUCED_ON_LDN = frozenset(
    {
        "IL-1b", "IL-1Ra", "IL-2", "IL-4", "IL-5", "IL-6", "IL-10", "IL-12p40",
        "IL-12p70", "IL-15", "IL-17A", "IL-27", "IFN-a", "TGF-a", "TGF-b", "TNF-a",
        "G-CSF", "MCP-3", "ENA-78", "resistin",
    }
)  # fmt: skip

_SEVERITIES = np.array(["mild", "moderate", "severe"])


def _attended(last_day: np.ndarray, day: int, total_days: int) -> np.ndarray:
    """Who is still in the study on ``day``; completers also come to the closing visit."""
    return np.asarray((day <= last_day) | ((day == total_days + 1) & (last_day == total_days)))


def visits(
    protocol: Protocol,
    plan: SequencePlan,
    people: dict[str, np.ndarray],
    improvement: np.ndarray,
    last_day: np.ndarray,
    scenario: Scenario,
    rng: np.random.Generator,
) -> dict[str, list[Any]]:
    """Visit measures (thresholds, tolerability, capsule counts, AE review) per participant."""
    columns: dict[str, list[Any]] = {
        key: [] for key in ("person", "visit", "day", "measure", "value")
    }
    if protocol.visits is None:
        return columns
    measures = {measure.id: measure for measure in protocol.visits.measures}
    capsules_by_visit: dict[int, int] = {}
    for kit in kit_runs(protocol, plan):
        capsules_by_visit.setdefault(kit["dispense_visit"], 0)
        capsules_by_visit[kit["dispense_visit"]] += kit["capsules"]
    previous_day = None
    for visit in visit_plan(protocol, plan):
        day = visit["study_day"]
        present = np.flatnonzero(_attended(last_day, day, plan.total_days))
        r_today = improvement[present, min(day, plan.total_days) - 1]
        since = plan.kind[(previous_day or day) - 1 : day - 1]
        for measure_id in visit["measures"]:
            measure = measures[measure_id]
            if measure.kind == "choice":
                continue  # blinding guesses have their own table
            values = _measure_values(
                measure_id, measure, present, r_today, since, people, scenario, rng
            )
            if measure_id == "capsule_count":
                dispensed = capsules_by_visit.get(visit["visit"] - 1, 0)
                treated_days = int((since != ConditionKind.NONE).sum())
                taken = rng.binomial(treated_days, scenario.adherence, size=len(present))
                values = np.maximum(dispensed - taken, 0).astype(float)
            columns["person"].append(present)
            columns["visit"].append(np.full(len(present), visit["visit"]))
            columns["day"].append(np.full(len(present), day))
            columns["measure"].append(np.full(len(present), measure_id, dtype=object))
            columns["value"].append(values)
        previous_day = day
    return columns


def _measure_values(
    measure_id: str,
    measure: VisitMeasure,
    present: np.ndarray,
    r_today: np.ndarray,
    since: np.ndarray,
    people: dict[str, np.ndarray],
    scenario: Scenario,
    rng: np.random.Generator,
) -> np.ndarray:
    size = len(present)
    if measure_id == "pressure_threshold":
        noise = np.exp(rng.normal(0.0, scenario.threshold_noise, size))
        pressure = people["pressure"][present] * (1 + scenario.pressure_gain_per_r * r_today)
        return np.asarray(pressure * noise)
    if measure_id == "heat_threshold":
        return np.asarray(
            people["heat"][present]
            + scenario.heat_gain_cel_per_r * r_today
            + rng.normal(0, 0.7, size)
        )
    if measure_id == "cold_threshold":
        return np.asarray(people["cold"][present] + rng.normal(0, 1.5, size))
    if measure_id == "tolerability":
        on_ldn = (since == ConditionKind.LDN).sum() >= (since == ConditionKind.PLACEBO).sum()
        mean = scenario.tolerability_mean["ldn" if on_ldn else "placebo"]
        return np.clip(np.rint(rng.normal(mean, scenario.tolerability_sd, size)), 0, 100)
    if measure.kind == "review":
        return np.ones(size)
    low = measure.min if measure.min is not None else 0.0
    high = measure.max if measure.max is not None else low + 100.0
    return np.clip(rng.normal((low + high) / 2, (high - low) / 6, size), low, high)


def labs(
    protocol: Protocol,
    plan: SequencePlan,
    people: dict[str, np.ndarray],
    last_day: np.ndarray,
    scenario: Scenario,
    rng: np.random.Generator,
) -> dict[str, list[Any]]:
    """ESR at screening and cytokine trajectories that fall on LDN where the scenario says."""
    columns: dict[str, list[Any]] = {
        key: [] for key in ("person", "day", "panel", "analyte", "value", "unit")
    }
    panels = {panel.id: panel for panel in protocol.labs}
    on_ldn = (plan.kind == ConditionKind.LDN).astype(float)
    g_ldn = exposure_curve(on_ldn, scenario.ldn_onset_days)
    for panel_id, day in lab_draws(protocol, plan):
        panel = panels[panel_id]
        present = np.flatnonzero(day <= last_day)
        for analyte in panel.analytes:
            if analyte == "esr":
                values = people["esr"][present].copy()
                if panel.at != "screening":
                    values *= np.exp(rng.normal(0, 0.1, len(present)))
            else:
                base = people[f"cytokine:{analyte}"][present]
                change = (
                    scenario.cytokine_ldn_log_change * g_ldn[day - 1] * (analyte in REDUCED_ON_LDN)
                )
                noise = rng.normal(0, scenario.cytokine_log_sd_within, len(present))
                values = np.exp(base + change + noise)
            columns["person"].append(present)
            columns["day"].append(np.full(len(present), day))
            columns["panel"].append(np.full(len(present), panel_id, dtype=object))
            columns["analyte"].append(np.full(len(present), analyte, dtype=object))
            columns["value"].append(values)
            columns["unit"].append(np.full(len(present), panel.unit, dtype=object))
    return columns


def weekly_rates(scenario: Scenario, kind: str) -> dict[str, float]:
    """Events per participant-week of each term on a condition kind.

    The scenario gives the share who reported a term over the source trial's
    weeks on that condition; with events recurring at a constant rate r per
    week, that share is 1 - exp(-r weeks), so r = -ln(1 - share) / weeks.
    """
    weeks = scenario.adverse_event_weeks.get(kind, 1.0)
    return {
        term: -np.log1p(-min(share, 0.999)) / weeks
        for term, share in scenario.adverse_event_rates.get(kind, {}).items()
    }


def adverse_events(
    plan: SequencePlan, last_day: np.ndarray, scenario: Scenario, rng: np.random.Generator
) -> dict[str, list[Any]]:
    """Side effects by condition at the scenario's weekly rates, on the days each one is there.

    Per phase and term a participant has Poisson(rate x her weeks in the
    phase) events, each on a day drawn uniformly from her days in it.
    """
    columns: dict[str, list[Any]] = {
        key: [] for key in ("person", "term", "day", "severity", "serious")
    }
    for _phase, first, last, _period in plan.phase_spans():
        kind = str(plan.kind[first - 1])
        days_in = np.clip(np.minimum(last, last_day) - first + 1, 0, None)
        for term, rate in weekly_rates(scenario, kind).items():
            counts = rng.poisson(rate * days_in / 7.0)
            person = np.repeat(np.arange(len(last_day)), counts)
            day = first + np.floor(rng.random(len(person)) * days_in[person]).astype(int)
            order = np.lexsort((day, person))
            columns["person"].append(person[order])
            columns["term"].append(np.full(len(person), term, dtype=object))
            columns["day"].append(day[order])
            columns["severity"].append(
                _SEVERITIES[rng.choice(3, len(person), p=[0.8, 0.18, 0.02])]
            )
            columns["serious"].append(rng.random(len(person)) < 0.01)
    return columns


def blinding_guesses(
    plan: SequencePlan, last_day: np.ndarray, scenario: Scenario, rng: np.random.Generator
) -> dict[str, list[Any]]:
    """At the end of each blinded phase: "dont_know", or a guess right with the set probability."""
    columns: dict[str, list[Any]] = {key: [] for key in ("person", "phase", "period", "guess")}
    for phase, first, last, period in plan.phase_spans():
        kind = str(plan.kind[first - 1])
        if kind == ConditionKind.NONE or plan.blinding[first - 1] == Blinding.OPEN:
            continue
        present = np.flatnonzero(last_day >= last)
        other = "placebo" if kind == "ldn" else "ldn"
        unsure = rng.random(len(present)) < scenario.guess_dont_know
        right = rng.random(len(present)) < scenario.guess_correct_when_guessing
        guesses = np.where(unsure, "dont_know", np.where(right, kind, other)).astype(object)
        columns["person"].append(present)
        columns["phase"].append(np.full(len(present), phase, dtype=object))
        columns["period"].append(np.full(len(present), period))
        columns["guess"].append(guesses)
    return columns
