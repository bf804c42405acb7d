"""Lab results entered at the site: the ESR, in mm/hr, on the day the blood was drawn.

The Westergren method reads how far red cells fall in a 200 mm column in
one hour, so a reading above 200 mm/hr cannot be real (ICSH review of ESR
methods: Kratz et al., Int J Lab Hematol 2017;39:448-457). The pilot read
baseline ESR as a predictor of response, split at 20 mm/hr (Younger &
Mackey 2009).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from ldntrial.web.trial.models import LabResult, Participant

__all__ = ["ESR_MAX_MM_HR", "record_esr"]

ESR_MAX_MM_HR = 200.0


def record_esr(participant: Participant, sampled_on: date, value: float) -> LabResult:
    """Store one ESR reading; one per participant and day."""
    if not 0 <= value <= ESR_MAX_MM_HR:
        raise ValidationError({"value": f"between 0 and {ESR_MAX_MM_HR:g} mm/hr"})
    consent = participant.screening.consent_on
    if consent and sampled_on < consent:
        raise ValidationError({"sampled_on": f"before her consent ({consent:%Y-%m-%d})"})
    if sampled_on > datetime.now(ZoneInfo(participant.timezone)).date():
        raise ValidationError({"sampled_on": "in the future (her local date)"})
    if LabResult.objects.filter(
        participant=participant, sampled_on=sampled_on, panel="esr", analyte="esr"
    ).exists():
        raise ValidationError({"sampled_on": "an ESR is already recorded for this day"})
    return LabResult.objects.create(
        participant=participant,
        sampled_on=sampled_on,
        panel="esr",
        analyte="esr",
        value=value,
        unit="mm/h",
    )
