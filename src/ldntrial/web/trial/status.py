"""A participant leaves the study: she completes it, or withdraws on a given day.

Withdrawal stops collection and keeps what was collected (standards.md
RET-4; FDA guidance on data retention when subjects withdraw; EU CTR Art.
28(3)): her diary closes, nothing already stored is removed. She says what
may still be collected (nothing, safety follow-up, or visits and labs), and
:func:`collection_problem` holds every later entry to her choice. The reason
is kept as a CONSORT category with her own words beside it, so the flow
diagram can count withdrawals by reason. Both steps are audited.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from django.core.exceptions import ValidationError

from ldntrial.web.audit.tracking import because
from ldntrial.web.trial.dates import date_problem, local_today
from ldntrial.web.trial.models import Participant

__all__ = [
    "collection_problem",
    "complete_participant",
    "last_planned_day",
    "withdraw_participant",
]

Collected = Literal["visit", "lab", "adverse_event"]

_MAY_COLLECT: dict[str, frozenset[str]] = {
    Participant.AfterWithdrawal.NOTHING: frozenset(),
    Participant.AfterWithdrawal.SAFETY: frozenset({"adverse_event"}),
    Participant.AfterWithdrawal.VISITS: frozenset({"visit", "lab", "adverse_event"}),
}


def last_planned_day(participant: Participant) -> date:
    """The last day of her blind calendar (the study's longest sequence: her own length could
    tell her arm)."""
    return participant.enrolled_on + timedelta(days=participant.study.calendar_length - 1)


def withdraw_participant(
    participant: Participant,
    *,
    actor: str,
    on: date,
    reason: str,
    detail: str = "",
    after: str = Participant.AfterWithdrawal.NOTHING,
    reason_known: bool = True,
) -> Participant:
    """She withdrew; ``on`` is her last day in the study, ``reason`` a WithdrawalReason.

    ``reason_known=False`` stores no reason, for an import of data that never recorded
    one; the flow diagram then counts her as "reason not recorded".
    """
    errors: dict[str, str] = {}
    if participant.status != Participant.Status.ACTIVE:
        errors["status"] = f"she is {participant.status}, not active"
    if problem := date_problem(
        on, zone=participant.timezone, not_before=participant.enrolled_on, what="her enrolment"
    ):
        errors["on"] = problem
    if not reason_known:
        reason = ""
    elif reason not in Participant.WithdrawalReason.values:
        errors["reason"] = "choose one of: " + ", ".join(Participant.WithdrawalReason.labels)
    elif reason == Participant.WithdrawalReason.OTHER and not detail.strip():
        errors["detail"] = "required when the reason is 'another reason': say what it was"
    if after not in Participant.AfterWithdrawal.values:
        errors["after"] = "choose one of: " + ", ".join(Participant.AfterWithdrawal.labels)
    if errors:
        raise ValidationError(errors)
    label = Participant.WithdrawalReason(reason).label if reason else "reason not recorded"
    with because(f"withdrawal: {label}" + (f" ({detail.strip()})" if detail.strip() else "")):
        participant.status, participant.withdrawn_on = Participant.Status.WITHDRAWN, on
        participant.withdrawal_reason, participant.withdrawal_detail = reason, detail.strip()
        participant.after_withdrawal = after
        participant.save(actor=actor)
    return participant


def complete_participant(
    participant: Participant, *, actor: str, on: date | None = None
) -> Participant:
    """She finished the study as planned; ``on`` (her local today by default) is past her
    last planned day, since one who stops before it withdrew."""
    if participant.status != Participant.Status.ACTIVE:
        raise ValidationError({"status": f"she is {participant.status}, not active"})
    last = last_planned_day(participant)
    on = on or local_today(participant.timezone)
    if on < last:
        raise ValidationError(
            {
                "on": f"her last planned day is {last:%Y-%m-%d}; one who stops before it "
                "withdraws (with her reason)"
            }
        )
    if problem := date_problem(on, zone=participant.timezone):
        raise ValidationError({"on": problem})
    with because("completed the study"):
        participant.status, participant.completed_on = Participant.Status.COMPLETED, on
        participant.save(actor=actor)
    return participant


def collection_problem(participant: Participant, what: Collected, on: date) -> str | None:
    """Why data of kind ``what`` dated ``on`` may not be stored for her, or None.

    Before she withdrew everything may be stored; after, only what she agreed to.
    """
    withdrawn_on = participant.withdrawn_on
    if (
        participant.status != Participant.Status.WITHDRAWN
        or not withdrawn_on
        or on <= withdrawn_on
    ):
        return None
    if what in _MAY_COLLECT.get(participant.after_withdrawal, frozenset()):
        return None
    agreed = Participant.AfterWithdrawal(
        participant.after_withdrawal or Participant.AfterWithdrawal.NOTHING
    ).label
    return f"after she withdrew ({participant.withdrawn_on:%Y-%m-%d}); she agreed to {agreed}"
