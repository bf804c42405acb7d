"""An up-and-down study on the site: each woman's dose follows the last woman's response.

Women are enrolled on the study's one sequence with no dose; the pharmacist
assigns the next dose when the previous woman's response is known, by the
core's rule (:func:`ldntrial.protocol.randomisation.next_up_and_down_dose`:
one level down after a response, one up after none) and makes her kits then.
A response is the protocol's rule (e.g. at least 30 % less pain than at
baseline) read from her diary by the end-point definition the analysis uses
(:func:`ldntrial.protocol.windows.improvement_over_days`), once her end-point
window has closed. A woman who withdrew, or who entered nothing in a window,
has no response: she does not move the ladder and the next woman takes her
dose, as the published trial replaced its two withdrawals (studies.md §4.1).
When the protocol's stopping rule is met, nobody else is enrolled.

The dose is concealed as any allocation is: only on the pharmacy's page and
in kits whose contents the audit trail conceals (BLD-1, BLD-3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ldntrial.protocol.kits import kit_codes, prepare_kits
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.randomisation import (
    AllocationList,
    count_reversals,
    count_up_and_down_pairs,
    next_up_and_down_dose,
    up_and_down_finished,
)
from ldntrial.protocol.schedule import SequencePlan, plan_sequence
from ldntrial.protocol.windows import endpoint_windows, improvement_over_days
from ldntrial.vocab import AllocationMethod
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.concealed import assigned_doses, new_kits, sequence_of
from ldntrial.web.trial.models import Kit, Participant

__all__ = ["Ladder", "Step", "assign_next_dose", "is_up_and_down", "ladder"]


def is_up_and_down(study: Study) -> bool:
    return study.protocol.allocation.method == AllocationMethod.UP_AND_DOWN


@dataclass(frozen=True)
class Step:
    """One woman on the ladder, in enrolment order."""

    participant: Participant
    dose_mg: float | None
    state: str  # "responded", "did not respond", "waiting", "no end point", "no dose yet"
    improvement_percent: float | None
    result_from: date | None  # when her response is known (her end-point window closed)


@dataclass(frozen=True)
class Ladder:
    """The study's doses and responses so far, its stopping rule and what comes next."""

    steps: list[Step]
    history: list[tuple[float, bool]]
    reversals: int
    pairs: int
    finished: bool
    next_participant: Participant | None
    waiting_for: Participant | None
    next_dose_mg: float | None

    @property
    def rule(self) -> str:
        """The stopping rule's progress, in words."""
        return f"{self.reversals} reversals and {self.pairs} up-and-down pairs so far"


def ladder(study: Study, today: date | None = None) -> Ladder:
    """The study's ladder as of ``today`` (default: each woman's own local date)."""
    protocol = study.protocol
    rule = protocol.response_rule
    assert rule is not None  # only an up-and-down study has a ladder, and the rules give it one
    item = protocol.diary_item(rule.item)
    people = list(
        Participant.objects.filter(study=study)
        .select_related("slot")
        .order_by("enrolled_on", "pk")
    )
    doses = assigned_doses(people)
    steps, history = [], []
    waiting_for = next_participant = None
    for person in people:
        dose = doses.get(person.pk)
        if dose is None:
            steps.append(Step(person, None, "no dose yet", None, None))
            if next_participant is None and person.status == Participant.Status.ACTIVE:
                next_participant = person
            continue
        plan = plan_sequence(protocol, sequence_of(person), dose_mg=dose)
        known_from = person.enrolled_on + timedelta(days=_last_endpoint_day(protocol, plan) + 1)
        local_today = today or timezone.now().astimezone(ZoneInfo(person.timezone)).date()
        if person.status == Participant.Status.ACTIVE and local_today < known_from:
            steps.append(Step(person, dose, "waiting", None, known_from))
            waiting_for = waiting_for or person
            continue
        values = _daily_values(person, item.id, plan.total_days)
        change = improvement_over_days(
            protocol, plan, values, higher_is_better=item.higher_is_better
        )
        if math.isnan(change):
            steps.append(Step(person, dose, "no end point", None, known_from))
            continue
        responded = change >= rule.min_improvement_percent
        history.append((dose, responded))
        state = "responded" if responded else "did not respond"
        steps.append(Step(person, dose, state, change, known_from))
    finished = up_and_down_finished(protocol, history)
    return Ladder(
        steps=steps,
        history=history,
        reversals=count_reversals(history),
        pairs=count_up_and_down_pairs(history),
        finished=finished,
        next_participant=None if finished else next_participant,
        waiting_for=waiting_for,
        next_dose_mg=None if finished else next_up_and_down_dose(protocol, history),
    )


def assign_next_dose(
    study: Study, today: date | None = None, *, actor: str
) -> tuple[Participant, float, list[Kit]]:
    """Give the next woman waiting her dose from the ladder and make her kits.

    Refused (ValidationError naming why) when the stopping rule is met, when
    nobody waits for a dose, or while an earlier woman's response is not yet known.
    """
    with transaction.atomic():
        # One assignment at a time: a second click waits, then sees the dose given.
        Study.objects.select_for_update().filter(pk=study.pk).first()
        now = ladder(study, today)
        if now.finished:
            raise ValidationError(
                {"dose": f"the stopping rule is met ({now.rule}): no more doses are assigned"}
            )
        if now.next_participant is None:
            raise ValidationError({"dose": "nobody enrolled is waiting for a dose"})
        if now.waiting_for is not None:
            known = next(s.result_from for s in now.steps if s.participant == now.waiting_for)
            raise ValidationError(
                {
                    "dose": f"{now.next_participant.code}'s dose follows "
                    f"{now.waiting_for.code}'s response, known from {known:%Y-%m-%d}"
                }
            )
        person, dose = now.next_participant, float(now.next_dose_mg or 0.0)
        kits = _make_kits(study, person, dose, actor=actor)
    return person, dose, kits


def _make_kits(study: Study, person: Participant, dose: float, *, actor: str) -> list[Kit]:
    protocol = study.protocol
    slot = person.slot
    allocations = AllocationList(
        protocol.id,
        protocol.allocation.method,
        0,
        {},
        pd.DataFrame(
            {"randomisation_number": [slot.randomisation_number], "sequence": [sequence_of(slot)]}
        ),
    )
    planned = prepare_kits(protocol, allocations, doses_mg={slot.randomisation_number: dose})
    taken = set(Kit.objects.filter(study=study).values_list("code", flat=True))
    rng, codes = np.random.default_rng(), list[str]()
    while len(codes) < len(planned.table):
        codes += [c for c in kit_codes(len(planned.table), rng) if c not in taken | set(codes)]
    fresh = iter(codes)
    return new_kits(
        study,
        planned.table,
        slot_of=lambda _number: slot,
        code_of=lambda _listed: next(fresh),
        actor=actor,
    )


def _last_endpoint_day(protocol: Protocol, plan: SequencePlan) -> int:
    return max(w.last_day for w in endpoint_windows(protocol, plan))


def _daily_values(person: Participant, item: str, days: int) -> np.ndarray:
    """Her latest rating of ``item`` per study day (NaN where none)."""
    values = np.full(days, np.nan)
    entries = (
        DiaryEntry.objects.filter(participant=person)
        .order_by("diary_date", "version")
        .values_list("diary_date", "items")
    )
    for day, items in entries:  # later versions overwrite earlier ones
        index = (day - person.enrolled_on).days
        if 0 <= index < days and items.get(item) is not None:
            values[index] = float(items[item])
    return values
