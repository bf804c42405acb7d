"""A participant leaves the study: she completes it, or withdraws on a given day.

Withdrawal stops collection and keeps what was collected (standards.md
RET-4; FDA guidance on data retention when subjects withdraw; EU CTR Art.
28(3)): her diary closes, nothing already stored is removed. Both steps are
audited with their reason.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError

from ldntrial.web.audit.tracking import because
from ldntrial.web.trial.models import Participant

__all__ = ["complete_participant", "withdraw_participant"]


def withdraw_participant(participant: Participant, *, on: date, reason: str) -> Participant:
    """She withdrew; ``on`` is her last day in the study."""
    if participant.status != Participant.Status.ACTIVE:
        raise ValidationError({"status": f"she is {participant.status}, not active"})
    if on < participant.enrolled_on:
        raise ValidationError({"on": "before her enrolment"})
    if not reason.strip():
        raise ValidationError({"reason": "required: why she left (as she gave it, if she did)"})
    with because(f"withdrawal: {reason.strip()}"):
        participant.status, participant.withdrawn_on = Participant.Status.WITHDRAWN, on
        participant.save()
    return participant


def complete_participant(participant: Participant) -> Participant:
    """She finished the study as planned."""
    if participant.status != Participant.Status.ACTIVE:
        raise ValidationError({"status": f"she is {participant.status}, not active"})
    with because("completed the study"):
        participant.status = Participant.Status.COMPLETED
        participant.save()
    return participant
