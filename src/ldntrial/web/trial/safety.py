"""Adverse events: recorded with field-level checks; a serious one alerts at once.

A serious adverse event must reach the investigators without delay (ICH
E6(R3); 21 CFR 312.64(b) asks the investigator to report serious events to
the sponsor immediately). The alert is an email to every investigator and
study administrator of the study, sent when the record is committed. It
names the participant, the term, the onset and the criteria, never the arm.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction

from ldntrial.web.studies.notices import recipients
from ldntrial.web.studies.roles import Role
from ldntrial.web.trial.models import AdverseEvent, Participant
from ldntrial.web.trial.status import collection_problem

__all__ = ["report_adverse_event"]


def report_adverse_event(participant: Participant, **fields) -> AdverseEvent:  # type: ignore[no-untyped-def]
    """Store one adverse event; a serious one sends the alert once the save has committed."""
    if fields["onset"] < participant.enrolled_on:
        raise ValidationError(
            {
                "onset": f"before enrolment ({participant.enrolled_on:%Y-%m-%d}); "
                "record it as medical history instead"
            }
        )
    if fields["onset"] > datetime.now(ZoneInfo(participant.timezone)).date():
        raise ValidationError({"onset": "in the future (her local date)"})
    if problem := collection_problem(participant, "adverse_event", fields["onset"]):
        raise ValidationError({"onset": problem})
    event = AdverseEvent(participant=participant, **fields)
    event.full_clean()
    with transaction.atomic():
        event.save()
        if event.serious:
            transaction.on_commit(lambda: _alert(event))
    return event


def _alert(event: AdverseEvent) -> None:
    participant = event.participant
    study = participant.study
    to = recipients([Role.INVESTIGATOR, Role.STUDY_ADMIN], study)
    if not to:
        return
    send_mail(
        subject=f"[{study.code}] SERIOUS adverse event: {participant.code}, {event.term}",
        message=(
            f"A serious adverse event was recorded for {participant.code} "
            f"(site {participant.site.code}).\n"
            f"Term: {event.term}\nOnset: {event.onset:%Y-%m-%d}\n"
            f"Severity: {event.severity}; relatedness: {event.get_related_display()}; "
            f"outcome: {event.get_outcome_display()}\n"
            "Review it and report it to the sponsor as the protocol requires."
        ),
        from_email=None,
        recipient_list=to,
    )
