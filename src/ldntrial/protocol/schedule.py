"""A participant's calendar: phase, condition and dose for every local date; visits; draws; kits.

Two layers. :func:`plan_sequence` lays out one sequence by study day, with no
calendar: the simulator reuses one plan for thousands of participants.
:func:`build_schedule` puts a plan on the calendar of one participant, from
her enrolment date (study day 1) in her own time zone, so that the diary
window of each day is an exact instant even across daylight-saving changes.

Conventions
-----------
- Study day 1 is the enrolment date; dates are local calendar dates.
- ``period`` numbers the treated phases of a sequence (1, 2, ...) in order;
  untreated phases (baseline, washout, follow-up) have period 0.
- Visits fall on study day 1 and every ``interval_days`` after it, plus a
  closing visit on the day after the last phase, each with a +/- window.
- Screening labs are drawn at the day-1 visit; scheduled draws fall on fixed
  weekdays of each study week (``times_per_week`` spread evenly).
- A kit is one bottle of one condition and dose; it covers the days from its
  start to the day before the next visit (or the end of its run of days), and
  is handed out at the last visit on or before its first day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from ldntrial.errors import ScheduleError
from ldntrial.protocol.model import Condition, DiarySettings, Dosing, Protocol
from ldntrial.vocab import AllocationMethod, Blinding, ConditionKind, MeasureTiming

__all__ = [
    "Schedule",
    "SequencePlan",
    "build_schedule",
    "diary_window",
    "guess_visits",
    "kit_runs",
    "lab_draws",
    "local_instant",
    "plan_sequence",
    "shared_periods",
    "site_visit_plan",
    "visit_plan",
]


@dataclass(frozen=True)
class SequencePlan:
    """One sequence laid out by study day (index 0 is study day 1), without dates."""

    sequence: str
    phase: np.ndarray  # phase name per day
    period: np.ndarray  # treated-phase ordinal per day, 0 when untreated
    condition: np.ndarray  # condition key per day
    kind: np.ndarray  # ConditionKind value per day
    dose_mg: np.ndarray  # dose per day, NaN when no LDN is taken
    blinding: np.ndarray  # Blinding value per day
    exposure_day: np.ndarray  # days on the current condition so far (1-based), 0 if none
    visit_days: np.ndarray  # study days of the visits, closing visit included

    @property
    def total_days(self) -> int:
        """Days from study day 1 to the last day of the last phase."""
        return len(self.phase)

    def phase_spans(self) -> list[tuple[str, int, int, int]]:
        """(phase, first study day, last study day, period) for each phase, in order."""
        if self.total_days == 0:
            return []
        changes = (self.phase[1:] != self.phase[:-1]) | (self.period[1:] != self.period[:-1])
        starts = np.concatenate([[0], np.flatnonzero(changes) + 1])
        ends = np.append(starts[1:], self.total_days)
        return [
            (str(self.phase[start]), int(start) + 1, int(end), int(self.period[start]))
            for start, end in zip(starts, ends, strict=True)
        ]


def plan_sequence(
    protocol: Protocol, sequence: str, *, dose_mg: float | None = None
) -> SequencePlan:
    """Lay out ``sequence`` day by day; ``dose_mg`` is a dose assigned up and down."""
    try:
        phase_names = protocol.sequence(sequence).phases
    except KeyError:
        known = ", ".join(s.name for s in protocol.all_sequences)
        raise ScheduleError(
            f"no sequence '{sequence}' in {protocol.id}; sequences are {known}"
        ) from None
    phases, periods, conditions, kinds, doses, blinding, exposure = [], [], [], [], [], [], []
    period = 0
    previous_condition = None
    days_on_condition = 0
    for name in phase_names:
        phase = protocol.phase(name)
        condition = protocol.conditions[phase.condition]
        treated = condition.kind != ConditionKind.NONE
        period += treated
        for _ in range(phase.days):
            days_on_condition = (
                days_on_condition + 1 if phase.condition == previous_condition else 1
            )
            previous_condition = phase.condition
            phases.append(name)
            periods.append(period if treated else 0)
            conditions.append(phase.condition)
            kinds.append(str(condition.kind))
            blinding.append(str(phase.blinding))
            exposure.append(days_on_condition if treated else 0)
            doses.append(_dose(condition, days_on_condition, dose_mg))
    total = len(phases)
    interval = protocol.visits.interval_days if protocol.visits else None
    visit_days = np.array([], dtype=np.int64)
    if interval:
        # Every interval from day 1, plus the closing visit the day after the last phase.
        visit_days = np.union1d(np.arange(1, total + 2, interval), [total + 1])
    return SequencePlan(
        sequence=sequence,
        phase=np.array(phases, dtype=object),
        period=np.array(periods, dtype=np.int64),
        condition=np.array(conditions, dtype=object),
        kind=np.array(kinds, dtype=object),
        dose_mg=np.array(doses, dtype=float),
        blinding=np.array(blinding, dtype=object),
        exposure_day=np.array(exposure, dtype=np.int64),
        visit_days=visit_days,
    )


def _dose(condition: Condition, exposure_day: int, assigned_mg: float | None) -> float:
    if condition.kind != ConditionKind.LDN:
        return float("nan")
    if condition.titration is not None:
        return condition.titration.dose_on(exposure_day)
    if condition.dose_mg is not None:
        return condition.dose_mg
    if assigned_mg is None:
        raise ScheduleError("this protocol assigns the LDN dose per participant; pass dose_mg")
    return assigned_mg


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant the wall clock in ``zone`` shows ``at`` on ``day``.

    A wall time that does not exist (skipped when clocks go forward) moves
    forward by the length of the gap, as a person would read it; a repeated
    one (clocks going back) is the first of the two.
    """
    wall = datetime.combine(day, at).replace(tzinfo=zone, fold=0)
    return wall.astimezone(UTC).astimezone(zone)


def diary_window(diary: DiarySettings, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """(opens, closes) of the entry for report day ``day``, aware in ``zone`` (EPRO-10)."""
    closes_on = day + timedelta(days=1 if diary.closes_next_day else 0)
    return local_instant(day, diary.opens, zone), local_instant(closes_on, diary.closes, zone)


@dataclass(frozen=True)
class Schedule:
    """A participant's calendar. Every table has a ``study_day`` and a local ``date``.

    days:   date, study_day, phase, period, condition, kind, dose_mg, blinding,
            diary_opens_at, diary_closes_at (aware, in the participant's zone)
    visits: visit, study_day, date, earliest, latest, phase, measures (tuple of ids),
            dispenses (tuple of kit numbers)
    labs:   draw, panel, analyte_count, study_day, date, phase
    kits:   kit_number, condition, dose_mg, first_day, last_day, days, capsules,
            dispense_visit, dispense_on
    """

    protocol_id: str
    sequence: str
    enrolled_on: date
    timezone: str
    days: pd.DataFrame
    visits: pd.DataFrame
    labs: pd.DataFrame
    kits: pd.DataFrame

    def on(self, day: date) -> pd.Series:
        """The row of ``days`` for a local date (KeyError outside the study)."""
        match = self.days[self.days["date"] == pd.Timestamp(day)]
        if match.empty:
            raise KeyError(day)
        return match.iloc[0]


def build_schedule(
    protocol: Protocol,
    *,
    sequence: str,
    enrolled_on: date,
    timezone: str,
    dose_mg: float | None = None,
) -> Schedule:
    """The calendar of one participant who starts ``sequence`` on ``enrolled_on``."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown time zone '{timezone}' (use an IANA name such as America/Los_Angeles)"
        ) from None
    plan = plan_sequence(protocol, sequence, dose_mg=dose_mg)
    return Schedule(
        protocol_id=protocol.id,
        sequence=sequence,
        enrolled_on=enrolled_on,
        timezone=timezone,
        days=_days_table(protocol, plan, enrolled_on, zone),
        visits=_visits_table(protocol, plan, enrolled_on),
        labs=_labs_table(protocol, plan, enrolled_on),
        kits=_kits_table(protocol, plan, enrolled_on),
    )


def _date_of(enrolled_on: date, study_day: int) -> pd.Timestamp:
    return pd.Timestamp(enrolled_on + timedelta(days=study_day - 1))


def _days_table(
    protocol: Protocol, plan: SequencePlan, enrolled_on: date, zone: ZoneInfo
) -> pd.DataFrame:
    dates = [enrolled_on + timedelta(days=offset) for offset in range(plan.total_days)]
    windows = [diary_window(protocol.diary, day, zone) for day in dates]
    return pd.DataFrame(
        {
            "date": pd.to_datetime(dates),
            "study_day": np.arange(1, plan.total_days + 1),
            "phase": plan.phase,
            "period": plan.period,
            "condition": plan.condition,
            "kind": plan.kind,
            "dose_mg": plan.dose_mg,
            "blinding": plan.blinding,
            "diary_opens_at": [opens for opens, _closes in windows],
            "diary_closes_at": [closes for _opens, closes in windows],
        }
    )


def _phase_on(plan: SequencePlan, study_day: int) -> str:
    return str(plan.phase[min(study_day, plan.total_days) - 1])


def _treated_between(plan: SequencePlan, first: int, last: int) -> bool:
    """True when any study day in [first, last] (clipped to the study) is treated."""
    first, last = max(first, 1), min(last, plan.total_days)
    return bool(first <= last and (plan.kind[first - 1 : last] != ConditionKind.NONE).any())


def guess_visits(plan: SequencePlan) -> dict[int, int]:
    """{period: study day of the first visit after it} for each blinded treated period.

    Keyed by period, not phase name: an N-of-1 sequence repeats its phases
    (ldn, placebo, placebo, ldn...) and each block has its own guess.
    """
    asked = {}
    for _phase, _first, last, period in plan.phase_spans():
        blinded = (
            plan.blinding[last - 1] != Blinding.OPEN and plan.kind[last - 1] != ConditionKind.NONE
        )
        later = plan.visit_days[plan.visit_days > last]
        if blinded and len(later):
            asked[period] = int(later[0])
    return asked


def visit_plan(protocol: Protocol, plan: SequencePlan) -> list[dict[str, Any]]:
    """Each visit of ``plan`` as a dict: visit, study_day, measures, dispenses.

    A measure recorded at "treatment visits" is taken when any day since the
    previous visit was treated (the capsules are counted and their
    tolerability rated); the blinding guess is asked at the first visit after
    each blinded phase.
    """
    if protocol.visits is None:
        return []
    guess_days = set(guess_visits(plan).values())
    kits = kit_runs(protocol, plan)
    rows = []
    previous = None
    for number, day in enumerate(plan.visit_days.tolist(), start=1):
        treated_since_last = previous is not None and _treated_between(plan, previous, day - 1)
        measures = tuple(
            measure.id
            for measure in protocol.visits.measures
            if measure.when == MeasureTiming.EVERY_VISIT
            or (measure.when == MeasureTiming.TREATMENT_VISITS and treated_since_last)
            or (measure.when == MeasureTiming.END_OF_BLINDED_PHASE and day in guess_days)
        )
        dispenses = tuple(kit["kit_number"] for kit in kits if kit["dispense_visit"] == number)
        rows.append(
            {"visit": number, "study_day": day, "measures": measures, "dispenses": dispenses}
        )
        previous = day
    return rows


def site_visit_plan(protocol: Protocol) -> list[dict[str, Any]]:
    """The visits as blinded site staff see them: the same for every sequence.

    A sequence's own plan can give it away: in crossover-2013 the blinding
    guess falls at visit 8 after 12 weeks of LDN first but at visit 4 after
    4 weeks of placebo first. So each visit asks every measure that any
    sequence asks there (a guess asked when it is not due is simply one
    more guess), and dispenses every kit number any sequence dispenses.
    Raises ScheduleError when visits fall on different days in different
    sequences, since no site calendar could then stay blind.
    """
    # An up-and-down design's dose is the participant's own; the calendar does not depend on it.
    dose = math.nan if protocol.allocation.method == AllocationMethod.UP_AND_DOWN else None
    plans = [
        visit_plan(protocol, plan_sequence(protocol, s.name, dose_mg=dose))
        for s in protocol.all_sequences
    ]
    merged: dict[int, dict[str, Any]] = {}
    order = [measure.id for measure in (protocol.visits.measures if protocol.visits else [])]
    for visits in plans:
        for visit in visits:
            row = merged.setdefault(
                visit["visit"],
                {
                    "visit": visit["visit"],
                    "study_day": visit["study_day"],
                    "measures": set(),
                    "dispenses": set(),
                },
            )
            if row["study_day"] != visit["study_day"]:
                raise ScheduleError(
                    f"visit {visit['visit']} falls on study day {row['study_day']} in one "
                    f"sequence and {visit['study_day']} in another: the site's calendar "
                    "would reveal the allocation"
                )
            row["measures"] |= set(visit["measures"])
            row["dispenses"] |= set(visit["dispenses"])
    return [
        {
            **row,
            "measures": tuple(m for m in order if m in row["measures"]),
            "dispenses": tuple(sorted(row["dispenses"])),
        }
        for _number, row in sorted(merged.items())
    ]


def shared_periods(protocol: Protocol) -> list[tuple[str, int, int]] | None:
    """(label, first study day, last study day) of each period, the same in every sequence.

    What a blinded participant may be shown of her calendar: open phases by
    their label ("Baseline"), blinded ones as "period N". None when the
    sequences' periods start or end on different days (crossover-2013: 12
    weeks of LDN first, or 4 weeks of placebo first), because the length of
    a period would then tell her which arm she is in.
    """
    dose = math.nan if protocol.allocation.method == AllocationMethod.UP_AND_DOWN else None
    layouts = set()
    for sequence in protocol.all_sequences:
        plan = plan_sequence(protocol, sequence.name, dose_mg=dose)
        layout = []
        for phase, first, last, period in plan.phase_spans():
            spec = protocol.phase(phase)
            open_phase = spec.blinding == Blinding.OPEN
            label = (spec.label or phase) if open_phase else f"period {period}"
            layout.append((label, first, last))
        layouts.add(tuple(layout))
    return list(layouts.pop()) if len(layouts) == 1 else None


def _visits_table(protocol: Protocol, plan: SequencePlan, enrolled_on: date) -> pd.DataFrame:
    columns = [
        "visit",
        "study_day",
        "date",
        "earliest",
        "latest",
        "phase",
        "measures",
        "dispenses",
    ]
    window = protocol.visits.window_days if protocol.visits else 0
    rows = [
        {
            **visit,
            "date": _date_of(enrolled_on, visit["study_day"]),
            "earliest": _date_of(enrolled_on, max(1, visit["study_day"] - window)),
            "latest": _date_of(enrolled_on, visit["study_day"] + window),
            "phase": _phase_on(plan, visit["study_day"]),
        }
        for visit in visit_plan(protocol, plan)
    ]
    return pd.DataFrame(rows, columns=columns)


def lab_draws(protocol: Protocol, plan: SequencePlan) -> list[tuple[str, int]]:
    """(panel id, study day) of every blood draw of ``plan``, in day order."""
    draws = []
    for panel in protocol.labs:
        if panel.at == "screening":
            draws.append((panel.id, 1))
            continue
        per_week = panel.times_per_week or 1
        offsets = {round(7 * index / per_week) for index in range(per_week)}
        allowed = set(panel.phases or (p.name for p in protocol.phases))
        draws.extend(
            (panel.id, day)
            for day in range(1, plan.total_days + 1)
            if (day - 1) % 7 in offsets and plan.phase[day - 1] in allowed
        )
    return sorted(draws, key=lambda draw: (draw[1], draw[0]))


def _labs_table(protocol: Protocol, plan: SequencePlan, enrolled_on: date) -> pd.DataFrame:
    analytes = {panel.id: len(panel.analytes) for panel in protocol.labs}
    rows = [
        {
            "draw": number,
            "panel": panel,
            "analyte_count": analytes[panel],
            "study_day": day,
            "date": _date_of(enrolled_on, day),
            "phase": _phase_on(plan, day),
        }
        for number, (panel, day) in enumerate(lab_draws(protocol, plan), start=1)
    ]
    columns = ["draw", "panel", "analyte_count", "study_day", "date", "phase"]
    return pd.DataFrame(rows, columns=columns)


def _titration_steps(protocol: Protocol, plan: SequencePlan) -> np.ndarray:
    """The titration step of each day, for every treated condition alike.

    A placebo in a titrated trial changes bottles on the same days as LDN, so
    the number and timing of bottles cannot reveal the allocation.
    """
    titrations = [c.titration for c in protocol.conditions.values() if c.titration is not None]
    if not titrations:
        return np.zeros(plan.total_days, dtype=np.int64)
    titration = titrations[0]
    last_step = titration.days_to_max // titration.interval_days
    steps = np.minimum((plan.exposure_day - 1) // titration.interval_days, last_step)
    return np.where(plan.exposure_day > 0, steps, -1)


def kit_runs(protocol: Protocol, plan: SequencePlan) -> list[dict[str, Any]]:
    """Kits as dicts: one per run of one condition, dose and titration step, split at visits."""
    visits = plan.visit_days.tolist() or [1]
    steps = _titration_steps(protocol, plan)
    dosing = protocol.dosing
    per_day = dosing.capsules_per_day if dosing.form == "capsule" else dosing.ml_per_day or 1
    kits: list[dict[str, Any]] = []
    day = 1
    while day <= plan.total_days:
        if plan.kind[day - 1] == ConditionKind.NONE:
            day += 1
            continue
        last = day
        while (
            last < plan.total_days
            and plan.condition[last] == plan.condition[day - 1]
            and _same_dose(plan.dose_mg[last], plan.dose_mg[day - 1])
            and steps[last] == steps[day - 1]
            and (last + 1) not in visits
        ):
            last += 1
        dispense_visit = max(index for index, visit in enumerate(visits, start=1) if visit <= day)
        dose = float(plan.dose_mg[day - 1])
        kits.append(
            {
                "kit_number": len(kits) + 1,
                "condition": str(plan.condition[day - 1]),
                "dose_mg": dose,
                "mg_per_ml": _concentration(dosing, dose),
                "first_day": day,
                "last_day": last,
                "days": last - day + 1,
                "capsules": (last - day + 1 + dosing.spare_days) * per_day,
                "dispense_visit": dispense_visit,
            }
        )
        day = last + 1
    return kits


def _concentration(dosing: Dosing, dose_mg: float) -> float:
    """A liquid kit's mg per mL (placebo 0); NaN for capsules."""
    if dosing.form == "capsule":
        return float("nan")
    return 0.0 if np.isnan(dose_mg) else dose_mg / (dosing.ml_per_day or 1)


def _same_dose(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


def _kits_table(protocol: Protocol, plan: SequencePlan, enrolled_on: date) -> pd.DataFrame:
    kits = kit_runs(protocol, plan)
    visit_days = plan.visit_days.tolist() or [1]
    for kit in kits:
        kit["dispense_on"] = _date_of(enrolled_on, visit_days[kit["dispense_visit"] - 1])
    columns = [
        "kit_number", "condition", "dose_mg", "first_day", "last_day", "days",
        "capsules", "dispense_visit", "dispense_on",
    ]  # fmt: skip
    return pd.DataFrame(kits, columns=columns)
