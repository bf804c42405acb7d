"""Adverse events: recorded with field checks, followed up to their end, serious ones alerted.

A serious adverse event must reach the investigators without delay (ICH
E6(R3); 21 CFR 312.64(b) asks the investigator to report serious events to
the sponsor immediately). The alert is an email to every investigator and
study administrator of the study, sent when the record is committed (and
again when a follow-up makes an event serious). It names the participant,
the term, the onset and the criteria, never the arm. Who it went to is kept
on the event: a serious event whose alert reached nobody is shown on the
dashboard, never dropped silently, and its next follow-up sends the alert to
whoever has an address by then.

Follow-up (ICH E2A; CDISC SDTM AEOUT, AEENDTC, AEACN) changes the outcome,
the end date, the action taken with the capsules, the severity, and makes an
event serious; each change is audited with its reason, so the page can show
the event's history. Seriousness is only ever raised here: an event called
serious in error is corrected as a record, with the sponsor's agreement.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction

from ldntrial.web.audit.tracking import because
from ldntrial.web.studies.models import Study
from ldntrial.web.studies.notices import recipients
from ldntrial.web.studies.roles import Role
from ldntrial.web.trial.dates import date_problem
from ldntrial.web.trial.models import AdverseEvent, Participant
from ldntrial.web.trial.status import collection_problem

__all__ = [
    "alert_recipients",
    "correct_adverse_event",
    "follow_up_adverse_event",
    "report_adverse_event",
]


def alert_recipients(study: Study) -> list[str]:
    """Who a serious-event alert of ``study`` goes to (investigators, study administrators)."""
    return recipients([Role.INVESTIGATOR, Role.STUDY_ADMIN], study)


def report_adverse_event(
    participant: Participant, *, actor: str, end_known: bool = True, **fields: Any
) -> AdverseEvent:
    """Store one adverse event; a serious one sends the alert once the save has committed.

    ``end_known=False`` stores an ended event without its end date, for an import whose
    source does not say it; everyone else gives the date.
    """
    onset = fields["onset"]
    if onset < participant.enrolled_on:
        raise ValidationError(
            {
                "onset": f"before enrolment ({participant.enrolled_on:%Y-%m-%d}); "
                "record it as medical history instead"
            }
        )
    if problem := date_problem(onset, zone=participant.timezone) or collection_problem(
        participant, "adverse_event", onset
    ):
        raise ValidationError({"onset": problem})
    event = AdverseEvent(participant=participant, **fields)
    _check_end(event, end_known=end_known)
    event.full_clean()
    with transaction.atomic():
        if event.serious:
            event.alerted = alert_recipients(participant.study)
        event.save(actor=actor)
        if event.serious:
            transaction.on_commit(lambda: _alert(event, occasion="recorded"))
    return event


def follow_up_adverse_event(
    event: AdverseEvent,
    *,
    actor: str,
    outcome: str,
    resolved_on: date | None,
    action_taken: str,
    severity: str,
    serious: bool,
    reason: str,
) -> AdverseEvent:
    """Record where the event stands now; the audit trail keeps every earlier state."""
    if not reason.strip():
        raise ValidationError({"reason": "required: what was learnt, and from whom"})
    if event.serious and not serious:
        raise ValidationError(
            {
                "serious": "a serious event stays serious at follow-up; if it was recorded "
                "as serious in error, correct the record with the sponsor's agreement"
            }
        )
    # Made serious now, or serious with an alert that reached nobody: (re)send it.
    to_alert = serious and (not event.serious or not event.alerted)
    occasion = "made serious at follow-up" if not event.serious else "followed up"
    event.outcome, event.resolved_on, event.action_taken = outcome, resolved_on, action_taken
    event.severity, event.serious = severity, serious
    _check_end(event)
    event.full_clean()
    with transaction.atomic(), because(f"follow-up: {reason.strip()}"):
        if to_alert:
            event.alerted = alert_recipients(event.participant.study)
        event.save(actor=actor)
        if to_alert:
            transaction.on_commit(lambda: _alert(event, occasion=occasion))
    return event


def correct_adverse_event(
    event: AdverseEvent,
    *,
    actor: str,
    term: str,
    onset: date,
    related: str,
    serious: bool,
    reason: str,
) -> AdverseEvent:
    """Correct what was recorded wrongly (term, onset, relatedness; seriousness recorded in
    error, with the sponsor's agreement), as a new version with its reason."""
    if not reason.strip():
        raise ValidationError({"reason": "required: what was wrong, and who agreed"})
    participant = event.participant
    if onset < participant.enrolled_on:
        raise ValidationError({"onset": f"before enrolment ({participant.enrolled_on:%Y-%m-%d})"})
    if problem := date_problem(onset, zone=participant.timezone):
        raise ValidationError({"onset": problem})
    made_serious = serious and not event.serious
    event.term, event.onset, event.related, event.serious = term.strip(), onset, related, serious
    _check_end(
        event, end_known=event.resolved_on is not None or event.outcome not in AdverseEvent.ENDED
    )
    event.full_clean()
    with transaction.atomic(), because(f"correction: {reason.strip()}"):
        if made_serious:
            event.alerted = alert_recipients(participant.study)
        event.save(actor=actor)
        if made_serious:
            transaction.on_commit(lambda: _alert(event, occasion="made serious by a correction"))
    return event


def _check_end(event: AdverseEvent, *, end_known: bool = True) -> None:
    """An ended event has the day it ended, on or after its onset; an open one has none."""
    if event.outcome in AdverseEvent.ENDED:
        if event.resolved_on is None and not end_known:
            return
        if event.resolved_on is None:
            outcome = event.get_outcome_display().lower()
            raise ValidationError({"resolved_on": f"required when the outcome is {outcome}"})
        participant = event.participant
        if problem := date_problem(
            event.resolved_on, zone=participant.timezone, not_before=event.onset, what="onset"
        ):
            raise ValidationError({"resolved_on": problem})
    elif event.resolved_on is not None:
        raise ValidationError(
            {
                "resolved_on": f"only an event that ended has an end date; the outcome is "
                f"{event.get_outcome_display().lower()}"
            }
        )


def _alert(event: AdverseEvent, *, occasion: str) -> None:
    if not event.alerted:
        return  # nobody to send it to: the dashboard shows the event until someone is told
    participant = event.participant
    study = participant.study
    send_mail(
        subject=f"[{study.code}] SERIOUS adverse event: {participant.code}, {event.term}",
        message=(
            f"A serious adverse event was {occasion} for {participant.code} "
            f"(site {participant.site.code}).\n"
            f"Term: {event.term}\nOnset: {event.onset:%Y-%m-%d}\n"
            f"Severity: {event.severity}; relatedness: {event.get_related_display()}; "
            f"outcome: {event.get_outcome_display().lower()}\n"
            "Review it and report it to the sponsor as the protocol requires."
        ),
        from_email=None,
        recipient_list=event.alerted,
    )
