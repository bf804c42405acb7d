"""Emergency unblinding of one participant, by an investigator who re-enters her password.

Standards.md BLD-5 to BLD-8: one participant at a time, a reason required,
re-authentication at the moment of unblinding (SIG-4), a permanent record,
an UNBLIND entry in the audit trail, and a notice to every investigator and
study administrator of the study. Neither the record, the trail nor the
notice contains the arm: only the returned :class:`CodeBreak` does, for the
page shown once to the investigator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from ldntrial.protocol.schedule import plan_sequence
from ldntrial.vocab import ConditionKind
from ldntrial.web.accounts.reentry import password_problem
from ldntrial.web.audit.chain import record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.studies.notices import recipients
from ldntrial.web.studies.roles import Role
from ldntrial.web.trial.concealed import contents_of, sequence_of
from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.models import Participant, Unblinding

__all__ = ["CodeBreak", "code_break", "emergency_unblind", "taken_today"]


@dataclass(frozen=True)
class CodeBreak:
    """The allocation of one participant, for one page view."""

    unblinding: Unblinding
    sequence: str
    phases: list[str]  # "Label: condition label, N days" in order
    today: str  # what she takes today, in words


def emergency_unblind(
    participant: Participant, user, *, password: str, reason: str, told_to: str = ""
) -> Unblinding:
    """Record the code break; the caller checked the permission and shows :func:`code_break`."""
    actor = actor_for(user)
    if not reason.strip():
        raise ValidationError({"reason": "required: say why the allocation is needed"})
    if problem := password_problem(user, password, signing=f"unblinding {participant.code}"):
        raise ValidationError({"password": f"{problem}; re-enter it to unblind"})
    with transaction.atomic():
        unblinding = Unblinding.objects.create(
            participant=participant,
            by=user,
            at=timezone.now(),
            reason=reason,
            told_to=told_to,
            actor=actor,
        )
        record_event(
            actor=actor_for(user),
            action=Action.UNBLIND,
            about=participant,
            changes={"unblinded": [None, participant.code]},
            reason=reason,
        )
        transaction.on_commit(lambda: _notify(unblinding))
    return unblinding


def code_break(unblinding: Unblinding) -> CodeBreak:
    """The allocation an unblinding revealed: her sequence, its phases, and today's capsules."""
    participant = unblinding.participant
    protocol = participant.study.protocol
    sequence = sequence_of(participant)
    phases = [
        f"{phase.label or phase.name}: "
        f"{protocol.conditions[phase.condition].label or phase.condition}, {phase.days} days"
        for phase in (protocol.phase(name) for name in protocol.sequence(sequence).phases)
    ]
    return CodeBreak(unblinding, sequence, phases, taken_today(participant))


def taken_today(participant: Participant) -> str:
    """What she takes today (her local date), as her calendar and dispensed kits say.

    The emergency is about today: the kit she holds and its dose (reduced or
    not) answer it, with the phase of her calendar for context.
    """
    today = local_today(participant.timezone)
    if participant.status == Participant.Status.WITHDRAWN:
        return f"No study capsules: she withdrew on {participant.withdrawn_on:%Y-%m-%d}."
    if participant.status == Participant.Status.COMPLETED:
        return "No study capsules: she completed the study."
    day = (today - participant.enrolled_on).days + 1
    protocol = participant.study.protocol
    plan = plan_sequence(protocol, sequence_of(participant), dose_mg=math.nan)  # doses: kits
    if not 1 <= day <= plan.total_days:
        return f"No study capsules: today is outside her calendar (study day {day})."
    phase = protocol.phase(str(plan.phase[day - 1]))
    key = str(plan.condition[day - 1])
    condition = protocol.conditions[key]
    where = f"Today is study day {day}, {phase.label or phase.name}"
    if condition.kind == ConditionKind.NONE:
        return f"{where}: no study capsules."
    kit = participant.slot.kits.filter(
        first_day__lte=day, last_day__gte=day, dispensed_on__isnull=False
    ).first()
    if kit is None:
        return (
            f"{where}: {condition.label or key} by her calendar, but no kit for "
            "today is recorded as dispensed."
        )
    dose_mg = contents_of(kit).dose_mg
    dose = f", {dose_mg:g} mg" if dose_mg else ""
    reduced = " (reduced dose)" if kit.reduced and dose_mg else ""
    return f"{where}: kit {kit.code}, {condition.label or key}{dose}{reduced}."


def _notify(unblinding: Unblinding) -> None:
    participant = unblinding.participant
    study = participant.study
    to = recipients([Role.INVESTIGATOR, Role.STUDY_ADMIN], study)
    if not to:
        return
    send_mail(
        subject=f"[{study.code}] Emergency unblinding of {participant.code}",
        message=(
            f"{unblinding.by.get_username()} unblinded participant {participant.code} "
            f"(site {participant.site.code}) at {unblinding.at:%Y-%m-%d %H:%M} UTC.\n"
            f"Reason: {unblinding.reason}\n"
            + (f"Allocation given to: {unblinding.told_to}\n" if unblinding.told_to else "")
            + "The allocation is not in this message. Record the deviation and assess its "
            "impact (ICH E6(R3) 4.1.4)."
        ),
        from_email=None,
        recipient_list=to,
    )
