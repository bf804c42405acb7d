"""Recording a lab visit: its measures, its window and what it reveals about safety.

The measures asked are those of the blind site plan
(:func:`ldntrial.protocol.schedule.site_visit_plan`). A visit held outside its
window is flagged and becomes a protocol deviation. An opioid among the
concomitant medications is a safety flag (naltrexone blocks opioids and can
precipitate withdrawal: naltrexone label) and a deviation too, since every
protocol excludes opioid use.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal

from ldntrial.protocol.eligibility import find_medications
from ldntrial.protocol.schedule import site_visit_plan
from ldntrial.web.trial.dates import date_problem
from ldntrial.web.trial.models import Participant, ProtocolDeviation, Visit
from ldntrial.web.trial.status import collection_problem

__all__ = ["check_failed", "planned_visit", "record_visit"]

check_failed = Signal()
"""Sent, inside the visit's transaction, for each of the protocol's checks across forms
that a recorded visit fails (``participant``, ``record``, ``field``, ``text``). The data
quality app raises the site's query for it (QualityConfig.ready): the check is the
trial's, how queries are kept is quality's, and quality builds on trial, not the reverse."""


def planned_visit(participant: Participant, number: int) -> dict[str, Any]:
    """Visit ``number`` of her blind calendar, with date and window; ValidationError if none."""
    for visit in participant.visit_calendar():
        if visit["visit"] == number:
            return visit
    raise ValidationError({"visit": f"the protocol has no visit {number}"})


def record_visit(
    participant: Participant,
    number: int,
    *,
    actor: str,
    held_on: date,
    values: dict[str, Any],
    medications: list[str],
    not_done: dict[str, str] | None = None,
) -> Visit:
    """Store (or correct, with a reason) visit ``number``; flags and deviations follow from it.

    ``not_done`` names measures not done, each with its reason, instead of a value.
    """
    not_done = {measure: why.strip() for measure, why in (not_done or {}).items()}
    plan = planned_visit(participant, number)
    expected = {
        m
        for v in site_visit_plan(participant.study.protocol)
        if v["visit"] == number
        for m in v["measures"]
    }
    unknown = sorted((set(values) | set(not_done)) - expected)
    if unknown:
        raise ValidationError({"values": f"not asked at visit {number}: {', '.join(unknown)}"})
    if both := sorted(set(values) & set(not_done)):
        raise ValidationError({"not_done": f"a value and 'not done' for {', '.join(both)}"})
    if blank := sorted(m for m, why in not_done.items() if not why):
        raise ValidationError({"not_done": f"say why it was not done: {', '.join(blank)}"})
    problem = date_problem(
        held_on,
        zone=participant.timezone,
        not_before=participant.enrolled_on,
        what="her enrolment",
    )
    if problem or (problem := collection_problem(participant, "visit", held_on)):
        raise ValidationError({"held_on": problem})
    out_of_window = not plan["earliest"] <= held_on <= plan["latest"]
    with transaction.atomic():
        visit = Visit.objects.filter(participant=participant, number=number).first() or Visit(
            participant=participant, number=number
        )
        # A correction raises deviations only for what it newly brings.
        was_out, known = visit.out_of_window, set(visit.medications)
        new_entries = [entry for entry in medications if entry not in known]
        opioids = [row for row in find_medications(new_entries) if row["category"] == "opioid"]
        visit.held_on, visit.values, visit.medications = held_on, values, medications
        visit.not_done = not_done
        visit.out_of_window = out_of_window
        visit.save(actor=actor)
        _cross_form_checks(participant, visit, plan, actor=actor)
        if out_of_window and not was_out:
            ProtocolDeviation.objects.create(
                participant=participant,
                kind="visit_out_of_window",
                description=(
                    f"visit {number} held on {held_on:%Y-%m-%d}; window "
                    f"{plan['earliest']:%Y-%m-%d} to {plan['latest']:%Y-%m-%d}"
                ),
                actor=actor,
            )
        for row in opioids:
            ProtocolDeviation.objects.create(
                participant=participant,
                kind="opioid",
                description=(
                    f"visit {number}: '{row['entry']}' contains an opioid ({row['ingredient']}); "
                    "naltrexone blocks it and can precipitate withdrawal (naltrexone label)"
                ),
                actor=actor,
            )
    return visit


def _cross_form_checks(
    participant: Participant, visit: Visit, plan: dict[str, Any], *, actor: str
) -> None:
    """The protocol's checks across forms; each failed one is sent as :data:`check_failed`,
    with the actor whose form failed it (the query it raises is written as hers)."""
    record = f"trial.Visit:{visit.pk}"
    if visit.out_of_window:
        check_failed.send(
            Visit,
            actor=actor,
            participant=participant,
            record=record,
            field="held_on",
            text=f"visit {visit.number} held on {visit.held_on:%Y-%m-%d}, outside its window "
            f"({plan['earliest']:%Y-%m-%d} to {plan['latest']:%Y-%m-%d}): is the date right?",
        )
    returned = visit.values.get("capsule_count")
    if returned is not None:
        handed_out = sum(
            kit.capsules
            for kit in participant.slot.kits.filter(
                dispensed_on__isnull=False, dispense_visit__lt=visit.number
            )
        )
        counted_before = sum(
            earlier.values.get("capsule_count") or 0
            for earlier in participant.visits.filter(number__lt=visit.number)
        )
        if returned > handed_out - counted_before:
            check_failed.send(
                Visit,
                actor=actor,
                participant=participant,
                record=record,
                field="capsule_count",
                text=f"{returned:g} capsules returned, but only "
                f"{handed_out - counted_before:g} were handed out and not yet counted",
            )
