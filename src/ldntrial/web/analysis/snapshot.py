"""The study's data as a TrialData: what the database holds, in the tidy contract of design.md.

Read only. Phase, condition and period are not stored with the data (a site
record never names the arm); they follow from each participant's sequence
and study day, exactly as the simulator lays them out
(:func:`ldntrial.protocol.schedule.plan_sequence`). The result is unblinded;
only the lock reads it, and only the statistician's unblinding shows it.

Conventions where the site records less than the contract holds:

- the diary: the highest version of each day's entry (a correction replaces
  the earlier version in the analysis, never in the database);
- baseline ESR: the screening answer, else her first ESR result;
- a lab sample's time: only its date is entered, read as 08:00 in her time
  zone (the hour the simulator draws at);
- the blinding guess: the one asked at the visit her own sequence asks it
  (after each blinded phase); the extra guesses the blind site calendar asks
  (:func:`ldntrial.protocol.schedule.site_visit_plan`) are not analysed.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from django.core.exceptions import ValidationError

from ldntrial.data.trialdata import TrialData
from ldntrial.protocol.schedule import SequencePlan, guess_visits, plan_sequence
from ldntrial.vocab import AllocationMethod
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.concealed import assigned_doses, sequence_of
from ldntrial.web.trial.models import AdverseEvent, LabResult, Participant, Visit

__all__ = ["trial_data_from_database"]

SAMPLE_HOUR = time(8, 0)


def trial_data_from_database(study: Study) -> TrialData:
    """Every participant's data in ``study`` as one unblinded TrialData.

    Raises ValidationError naming the participant when a required value is
    missing (a baseline ESR), so the lock can say what to complete first.
    """
    protocol = study.protocol
    people = list(
        Participant.objects.filter(study=study)
        .select_related("site", "slot", "screening")
        .order_by("code")
    )
    plans = {
        sequence: plan_sequence(protocol, sequence, dose_mg=math.nan)
        for sequence in {sequence_of(person) for person in people}
    }
    days = _Calendar({person.pk: person for person in people}, plans)
    tables: dict[str, Any] = {
        "participants": _participants(study, people),
        "diary": _diary(study, days),
        "adverse_events": _adverse_events(study, days),
        "labs": _labs(study, days),
    }
    tables["visits"], tables["blinding_guesses"] = _visits_and_guesses(study, days)
    return TrialData.from_tables(protocol, **tables)


class _Calendar:
    """Study day, phase, condition and period of a participant's date."""

    def __init__(self, people: dict[int, Participant], plans: dict[str, SequencePlan]) -> None:
        self.people = people
        self.plans = plans

    def plan(self, person_pk: int) -> SequencePlan:
        return self.plans[sequence_of(self.people[person_pk])]

    def on(self, person_pk: int, day: date, *, condition: bool = True) -> dict[str, object]:
        person = self.people[person_pk]
        plan = self.plan(person_pk)
        study_day = (day - person.enrolled_on).days + 1
        # The closing visit falls the day after the last phase; it belongs to that phase.
        index = min(max(study_day, 1), plan.total_days) - 1
        where = {
            "participant_id": person.code,
            "study_day": study_day,
            "phase": str(plan.phase[index]),
            "period": int(plan.period[index]),
        }
        if condition:  # only where the contract has it: a blinded view masks those columns
            where["condition"] = str(plan.condition[index])
        return where


def _participants(study: Study, people: list[Participant]) -> pd.DataFrame:
    # An up-and-down dose is the one in her kits; other designs' doses are the protocol's.
    up_and_down = study.protocol.allocation.method == AllocationMethod.UP_AND_DOWN
    doses = assigned_doses(people)
    first_esr = dict(
        LabResult.objects.filter(participant__in=people, analyte="esr")
        .order_by("participant_id", "-sampled_on")
        .values_list("participant_id", "value")
    )  # the last pair per participant wins: her earliest result
    rows, missing = [], []
    for person in people:
        answers = person.screening.answers
        esr = answers.get("esr_mm_h")
        esr = first_esr.get(person.pk) if esr is None else esr
        if esr is None:
            missing.append(person.code)
        rows.append(
            {
                "participant_id": person.code,
                "site": person.site.code,
                "sequence": sequence_of(person),
                "age": answers["age"],
                "sex": answers["sex"],
                "esr_baseline": esr,
                "enrolled_on": person.enrolled_on,
                "status": person.status,
                "withdrawn_on": person.withdrawn_on,
                "dose_mg": doses.get(person.pk) if up_and_down else None,
                "withdrawal_reason": person.withdrawal_reason or None,
            }
        )
    if missing:
        raise ValidationError(
            {"esr": f"no baseline ESR for {', '.join(missing)}: enter it before the lock"}
        )
    return pd.DataFrame(rows, columns=_PARTICIPANT_COLUMNS)


def _diary(study: Study, days: _Calendar) -> pd.DataFrame:
    protocol = study.protocol
    entries = (
        DiaryEntry.objects.filter(participant__study=study)
        .order_by("participant__code", "diary_date", "-version")
        .values_list("participant_id", "diary_date", "items")
        .iterator(chunk_size=5000)
    )
    rows, seen = [], set()
    order = [item.id for item in protocol.diary.items]
    for person_pk, day, items in entries:
        if (person_pk, day) in seen:
            continue  # an earlier version of a day already taken
        seen.add((person_pk, day))
        where = days.on(person_pk, day)
        for item in order:
            if item in items:
                rows.append({**where, "date": day, "item": item, "value": items[item]})
    return pd.DataFrame(rows, columns=[*_DAY_COLUMNS, "date", "item", "value"])


def _adverse_events(study: Study, days: _Calendar) -> pd.DataFrame:
    rows = [
        {
            **days.on(event.participant_id, event.onset),
            "term": event.term,
            "onset": event.onset,
            "severity": event.severity,
            "serious": event.serious,
            "related": event.related,
        }
        for event in AdverseEvent.objects.filter(participant__study=study).order_by(
            "participant__code", "onset", "pk"
        )
    ]
    return pd.DataFrame(
        rows, columns=[*_DAY_COLUMNS, "term", "onset", "severity", "serious", "related"]
    )


def _labs(study: Study, days: _Calendar) -> pd.DataFrame:
    rows = []
    for result in LabResult.objects.filter(participant__study=study).order_by(
        "participant__code", "sampled_on", "panel", "analyte"
    ):
        zone = ZoneInfo(days.people[result.participant_id].timezone)
        local = datetime.combine(result.sampled_on, SAMPLE_HOUR, tzinfo=zone)
        rows.append(
            {
                **days.on(result.participant_id, result.sampled_on, condition=False),
                "sampled_at": pd.Timestamp(local).tz_convert("UTC"),
                "panel": result.panel,
                "analyte": result.analyte,
                "value": result.value,
                "unit": result.unit,
            }
        )
    return pd.DataFrame(
        rows, columns=[*_PLACE_COLUMNS, "sampled_at", "panel", "analyte", "value", "unit"]
    )


def _visits_and_guesses(study: Study, days: _Calendar) -> tuple[pd.DataFrame, pd.DataFrame]:
    protocol = study.protocol
    measures = {m.id: m for m in (protocol.visits.measures if protocol.visits else [])}
    measured, guesses = [], []
    for visit in Visit.objects.filter(participant__study=study).order_by(
        "participant__code", "number"
    ):
        where = days.on(visit.participant_id, visit.held_on, condition=False)
        for measure_id, value in sorted(visit.values.items()):
            measure = measures.get(measure_id)
            if measure is None or value is None:
                continue
            if measure.kind in ("number", "review"):  # a review done is 1, as simulated
                measured.append(
                    {
                        **where,
                        "visit": visit.number,
                        "date": visit.held_on,
                        "measure": measure_id,
                        "value": float(value),
                        "unit": measure.unit,
                    }
                )
            elif measure.kind == "choice" and measure_id == "blinding_guess":
                guessed = _guessed_period(days.plan(visit.participant_id), visit.number)
                if guessed is not None:
                    guesses.append(
                        {
                            "participant_id": where["participant_id"],
                            "phase": guessed[0],
                            "period": guessed[1],
                            "guess": value,
                        }
                    )
    visits = pd.DataFrame(
        measured, columns=[*_PLACE_COLUMNS, "visit", "date", "measure", "value", "unit"]
    )
    return visits, pd.DataFrame(guesses, columns=["participant_id", "phase", "period", "guess"])


def _guessed_period(plan: SequencePlan, visit_number: int) -> tuple[str, int] | None:
    """(phase, period) of the blinded period her own sequence asks about at this visit."""
    day_of_visit = dict(enumerate(plan.visit_days.tolist(), start=1)).get(visit_number)
    phase_of = {period: phase for phase, _first, _last, period in plan.phase_spans()}
    for period, day in guess_visits(plan).items():
        if day == day_of_visit:
            return phase_of[period], period
    return None


_DAY_COLUMNS = ["participant_id", "study_day", "phase", "condition", "period"]
_PLACE_COLUMNS = ["participant_id", "study_day", "phase", "period"]
_PARTICIPANT_COLUMNS = [
    "participant_id",
    "site",
    "sequence",
    "age",
    "sex",
    "esr_baseline",
    "enrolled_on",
    "status",
    "withdrawn_on",
    "dose_mg",
    "withdrawal_reason",
]
