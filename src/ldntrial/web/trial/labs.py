"""Lab results entered at the site or imported from the laboratory, one analyte of one sample.

Every result must belong to a panel of the protocol (or to the liver test
it asks for after a liver-stressing drug), name one of its
analytes and carry the panel's unit (UCUM), so a value is never stored in
units the analysis would misread. The ESR has its own ceiling: the
Westergren method reads how far red cells fall in a 200 mm column in one
hour, so a reading above 200 mm/hr cannot be real (ICSH review of ESR
methods: Kratz et al., Int J Lab Hematol 2017;39:448-457). The pilot read
baseline ESR as a predictor of response, split at 20 mm/hr (Younger &
Mackey 2009).
"""

from __future__ import annotations

import math
from datetime import date

from django.core.exceptions import ValidationError

from ldntrial.protocol.eligibility import ESR_MAX_MM_H
from ldntrial.protocol.liver_test import lab_panels
from ldntrial.web.audit.tracking import because
from ldntrial.web.trial.dates import date_problem
from ldntrial.web.trial.models import LabResult, Participant
from ldntrial.web.trial.status import collection_problem

__all__ = ["check_lab_result", "correct_lab_result", "record_esr", "record_lab_result"]


def record_esr(
    participant: Participant, sampled_on: date, value: float, *, actor: str
) -> LabResult:
    """Store one ESR reading; one per participant and day."""
    return record_lab_result(
        participant,
        sampled_on=sampled_on,
        panel="esr",
        analyte="esr",
        value=value,
        unit="mm/h",
        actor=actor,
    )


def record_lab_result(
    participant: Participant,
    *,
    actor: str,
    sampled_on: date,
    panel: str,
    analyte: str,
    value: float,
    unit: str,
) -> LabResult:
    """Store one result after :func:`check_lab_result`; one per sample day, panel and analyte."""
    check_lab_result(
        participant, sampled_on=sampled_on, panel=panel, analyte=analyte, value=value, unit=unit
    )
    if LabResult.objects.filter(
        participant=participant, sampled_on=sampled_on, panel=panel, analyte=analyte
    ).exists():
        raise ValidationError(
            {"sampled_on": f"{analyte} is already recorded for {sampled_on:%Y-%m-%d}"}
        )
    return LabResult.objects.create(
        participant=participant,
        sampled_on=sampled_on,
        panel=panel,
        analyte=analyte,
        value=value,
        unit=unit,
        actor=actor,
    )


def check_lab_result(
    participant: Participant,
    *,
    sampled_on: date,
    panel: str,
    analyte: str,
    value: float,
    unit: str,
) -> None:
    """Raise ValidationError, field by field, for a result the protocol cannot hold."""
    panels = {lab.id: lab for lab in lab_panels(participant.study.protocol)}
    errors: dict[str, str] = {}
    lab = panels.get(panel)
    if lab is None:
        errors["panel"] = f"'{panel}' is not a lab panel of this protocol ({', '.join(panels)})"
    elif analyte not in lab.analytes:
        errors["analyte"] = f"'{analyte}' is not an analyte of the {panel} panel"
    elif unit != lab.unit:
        errors["unit"] = f"the {panel} panel is reported in {lab.unit}, got '{unit}'"
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        errors["value"] = f"must be a number of at least 0, got {value!r}"
    elif panel == "esr" and value > ESR_MAX_MM_H:
        errors["value"] = f"between 0 and {ESR_MAX_MM_H:g} mm/hr"
    problem = date_problem(
        sampled_on,
        zone=participant.timezone,
        not_before=participant.screening.consent_on,
        what="her consent",
    )
    if problem or (problem := collection_problem(participant, "lab", sampled_on)):
        errors["sampled_on"] = problem
    if errors:
        raise ValidationError(errors)


def correct_lab_result(
    result: LabResult, *, actor: str, sampled_on: date, value: float, reason: str
) -> LabResult:
    """A corrected value or draw date: a new version with its reason; the trail keeps the old."""
    if not reason.strip():
        raise ValidationError({"reason": "required: why the value is corrected (AUD-9)"})
    check_lab_result(
        result.participant,
        sampled_on=sampled_on,
        panel=result.panel,
        analyte=result.analyte,
        value=value,
        unit=result.unit,
    )
    clash = LabResult.objects.filter(
        participant=result.participant,
        sampled_on=sampled_on,
        panel=result.panel,
        analyte=result.analyte,
    ).exclude(pk=result.pk)
    if clash.exists():
        raise ValidationError(
            {"sampled_on": f"{result.analyte} is already recorded for {sampled_on:%Y-%m-%d}"}
        )
    with because(f"correction: {reason.strip()}"):
        result.sampled_on, result.value = sampled_on, value
        result.save(actor=actor)
    return result
