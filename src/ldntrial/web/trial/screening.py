"""Recording a screening: the core's eligibility rules decide, the decision is stored with reasons.

A "needs clinician review" decision waits for an investigator's sign-off
(:func:`sign_off`); nobody can enrol from it before that (AUD-8).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from pydantic import ValidationError as AnswersError

from ldntrial.errors import EligibilityError
from ldntrial.protocol.eligibility import Outcome, ScreeningAnswers, screen
from ldntrial.web.audit.tracking import actor_for, because
from ldntrial.web.studies.models import Site
from ldntrial.web.trial.dates import date_problem
from ldntrial.web.trial.models import Screening

__all__ = ["record_not_enrolled", "record_screening", "sign_off"]


def record_screening(
    site: Site, answers: dict[str, Any], consent_on: date | None, *, actor: str
) -> Screening:
    """Check ``answers``, apply the protocol's rules and store the decision (audited)."""
    try:
        parsed = ScreeningAnswers.model_validate(answers)
    except AnswersError as error:
        raise ValidationError(
            {
                ".".join(str(part) for part in issue["loc"]) or "answers": issue["msg"]
                for issue in error.errors()
            }
        ) from None
    if consent_on is not None and (problem := date_problem(consent_on)):
        raise ValidationError({"consent_on": problem})
    study = site.study
    try:
        decision = screen(study.protocol, parsed)
    except EligibilityError as error:  # e.g. "pain_areas: unknown areas ..."
        field, _, message = str(error).partition(": ")
        raise ValidationError({field if message else "answers": message or field}) from None
    with transaction.atomic():
        number = (study.screenings.aggregate(last=Max("number"))["last"] or 0) + 1
        return Screening.objects.create(
            study=study,
            site=site,
            number=number,
            answers=parsed.model_dump(mode="json"),
            outcome=decision.outcome,
            reasons=[vars(reason) for reason in decision.reasons],
            consent_on=consent_on,
            actor=actor,
        )


def sign_off(screening: Screening, reviewer, approve: bool) -> Screening:
    """An investigator's decision on a screening that needs clinician review."""
    actor = actor_for(reviewer)
    if screening.outcome != Outcome.NEEDS_REVIEW:
        raise ValidationError({"review": "only a 'needs review' screening is signed off"})
    if screening.review:
        raise ValidationError({"review": f"already {screening.review}"})
    screening.review = Screening.Review.APPROVED if approve else Screening.Review.REJECTED
    screening.reviewed_by = reviewer
    screening.reviewed_at = timezone.now()
    screening.save(actor=actor)
    return screening


def record_not_enrolled(
    screening: Screening, *, actor: str, reason: str, detail: str = ""
) -> Screening:
    """She could have been enrolled and will not be (a screen failure), and why."""
    if not screening.may_enrol:
        raise ValidationError(
            {"reason": "only someone who may be enrolled can be a screen failure"}
        )
    if hasattr(screening, "participant"):
        raise ValidationError({"reason": f"already enrolled as {screening.participant.code}"})
    if screening.not_enrolled_reason:
        raise ValidationError({"reason": "already recorded as not enrolled"})
    if reason not in Screening.NotEnrolled.values:
        raise ValidationError(
            {"reason": "choose one of: " + ", ".join(Screening.NotEnrolled.labels)}
        )
    if reason == Screening.NotEnrolled.OTHER and not detail.strip():
        raise ValidationError({"detail": "required when the reason is 'another reason'"})
    label = Screening.NotEnrolled(reason).label
    with because(f"not enrolled: {label}" + (f" ({detail.strip()})" if detail.strip() else "")):
        screening.not_enrolled_reason, screening.not_enrolled_detail = reason, detail.strip()
        screening.save(actor=actor)
    return screening
