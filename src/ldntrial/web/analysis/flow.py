"""Who was screened for a study and why those not allocated were not, for the report's flow.

Read from the screening log when the locked snapshot is unblinded (screenings
are study data, frozen by the lock like the rest). The reason of an
ineligible person is the first rule she failed, as the screening recorded it.
"""

from __future__ import annotations

from ldntrial.data.flow import Screened
from ldntrial.protocol.eligibility import Outcome
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.models import Screening

__all__ = ["screened"]


def screened(study: Study) -> Screened:
    """Everyone screened for ``study``, with a reason for each one not allocated."""
    screenings = list(study.screenings.select_related("participant"))
    reasons = [_why_not_allocated(s) for s in screenings if not hasattr(s, "participant")]
    return Screened.from_reasons(len(screenings), reasons)


def _why_not_allocated(screening: Screening) -> str:
    if screening.outcome == Outcome.INELIGIBLE:
        failed = [reason["rule"] for reason in screening.reasons if reason["outcome"] == "fail"]
        return f"not eligible ({failed[0].replace('_', ' ')})" if failed else "not eligible"
    if screening.outcome == Outcome.NEEDS_REVIEW and screening.review != Screening.Review.APPROVED:
        return (
            "not eligible (rejected at the investigator's review)"
            if screening.review == Screening.Review.REJECTED
            else "waiting for the investigator's review"
        )
    if screening.not_enrolled_reason:
        return screening.get_not_enrolled_reason_display()
    return "eligible, not enrolled, no reason recorded"
