"""Enrolment: the next concealed allocation is taken in the same transaction as the registration.

Concealment (CONSORT 9, standards.md BLD-2): nobody can know the next
allocation before the participant is irreversibly registered, because the
slot is chosen and bound inside the transaction that creates her. Steps in
order (AUD-8): an eligible (or approved) screening with consent recorded
first. The site is told her code, randomisation number and first kit code,
never the sequence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import transaction

from ldntrial.errors import RandomisationError
from ldntrial.protocol.randomisation import stratum_of
from ldntrial.protocol.schedule import build_schedule
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.concealed import sequence_of
from ldntrial.web.trial.dates import date_problem
from ldntrial.web.trial.models import AllocationSlot, Participant, Screening
from ldntrial.web.trial.up_and_down import is_up_and_down, ladder

__all__ = ["Enrolment", "enrol"]


@dataclass(frozen=True)
class Enrolment:
    """What the site learns: nothing that reveals the allocation."""

    participant: Participant
    first_kit_code: str


def enrol(
    screening: Screening, *, actor: str, enrolled_on: date, timezone: str, code: str | None = None
) -> Enrolment:
    """Register the screened person and bind the next free slot of her stratum to her."""
    if not screening.may_enrol:
        reason = (
            "waits for an investigator's sign-off"
            if screening.outcome == "needs_review" and not screening.review
            else f"is {screening.review or screening.outcome}"
        )
        raise ValidationError({"screening": f"screening {screening.number} {reason}"})
    if screening.not_enrolled_reason:
        raise ValidationError(
            {
                "screening": f"screening {screening.number} is recorded as not enrolled "
                f"({screening.get_not_enrolled_reason_display()})"
            }
        )
    if screening.consent_on is None:
        raise ValidationError({"consent_on": "record the date of written consent first"})
    study = screening.study
    protocol = study.protocol
    answers = screening.answers
    if timezone not in available_timezones():
        raise ValidationError({"timezone": f"'{timezone}' is not an IANA time zone"})
    problem = date_problem(
        enrolled_on, zone=timezone, not_before=screening.consent_on, what="her consent"
    )
    if problem:
        raise ValidationError({"enrolled_on": problem})
    # The participants-table fields a protocol may stratify by.
    try:
        stratum = stratum_of(
            protocol,
            {
                "site": screening.site.code,
                "age": answers["age"],
                "sex": answers["sex"],
                "esr_baseline": answers.get("esr_mm_h"),
            },
        )
    except RandomisationError as error:
        raise ValidationError({"allocation": str(error)}) from None
    if is_up_and_down(study):
        steps = ladder(study)
        if steps.finished:
            raise ValidationError(
                {
                    "allocation": f"the up-and-down stopping rule is met ({steps.rule}): "
                    "the study enrols no one else"
                }
            )
    with transaction.atomic():
        # One enrolment at a time per study: the row lock makes a second one wait until
        # this one has taken its slot, so two people can never get the same allocation.
        Study.objects.select_for_update().filter(pk=study.pk).first()
        if Participant.objects.filter(screening=screening).exists():
            raise ValidationError({"screening": "this screening is already enrolled"})
        slot = (
            AllocationSlot.objects.filter(study=study, stratum=stratum, participant__isnull=True)
            .order_by("list_version", "position")
            .first()
        )
        if slot is None:
            raise ValidationError(
                {
                    "allocation": f"no allocation left in stratum {stratum}; ask the pharmacist "
                    "to extend the list"
                }
            )
        number = Participant.objects.filter(study=study).count() + 1
        participant = Participant.objects.create(
            study=study,
            site=screening.site,
            code=code or f"{study.code.upper()}-{number:03d}",
            screening=screening,
            slot=slot,
            randomisation_number=slot.randomisation_number,
            enrolled_on=enrolled_on,
            timezone=timezone,
            protocol_version=study.protocol_version,
            actor=actor,
        )
        # Her calendar must be buildable (valid zone, dates) before she leaves the room.
        build_schedule(
            protocol,
            sequence=sequence_of(slot),
            enrolled_on=enrolled_on,
            timezone=timezone,
            # An up-and-down dose comes later; her calendar does not depend on it.
            dose_mg=math.nan if is_up_and_down(study) else None,
        )
        first_kit = slot.kits.order_by("kit_number").first()
    return Enrolment(participant, first_kit.code if first_kit else "")
