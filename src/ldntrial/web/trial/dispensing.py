"""Dispensing kits at visits and counting the capsules that come back (drug accountability).

The pharmacist hands out the kits of her slot that the protocol dispenses at
a visit, in kit order, each with its lot recorded (:mod:`.kit_lots`); a kit
comes back with its unused capsules (or mL) counted.
Capsules taken = capsules in the kit - returned (adherence, standards.md BLD-10).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from ldntrial.protocol.dosage_form import kit_units
from ldntrial.web.audit.tracking import because
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.dates import date_problem
from ldntrial.web.trial.kit_lots import lot_problem
from ldntrial.web.trial.models import Kit, Participant
from ldntrial.web.trial.record_status import SOON_DAYS
from ldntrial.web.trial.visits import planned_visit

__all__ = ["dispense_visit_kits", "record_return", "to_dispense"]


def dispense_visit_kits(
    participant: Participant, visit: int, on: date, *, actor: str
) -> list[Kit]:
    """Mark the kits of ``participant``'s slot for ``visit`` dispensed; returns them."""
    with transaction.atomic():
        kits = list(
            Kit.objects.select_for_update()
            .filter(slot=participant.slot, dispense_visit=visit)
            .order_by("kit_number")
        )
        if not kits:
            if not participant.slot.kits.exists():
                raise ValidationError(
                    {"visit": f"{participant.code} has no kits yet: assign her dose first"}
                )
            raise ValidationError({"visit": f"no kit is dispensed at visit {visit}"})
        if any(kit.dispensed_on for kit in kits):
            raise ValidationError({"visit": f"the kits of visit {visit} were already dispensed"})
        # A kit goes out at its visit: not before the visit's window opens.
        opens = max(participant.enrolled_on, planned_visit(participant, visit)["earliest"])
        problem = date_problem(
            on, zone=participant.timezone, not_before=opens, what=f"visit {visit}'s window opens"
        )
        if problem:
            raise ValidationError({"on": problem})
        unfilled = [problem for kit in kits if (problem := lot_problem(kit))]
        if unfilled:
            raise ValidationError({"visit": unfilled})
        with because(f"dispensed at visit {visit}"):
            for kit in kits:
                kit.dispensed_on = on
                kit.save(actor=actor)
    return kits


def record_return(kit: Kit, on: date, capsules: int, *, actor: str) -> Kit:
    """A kit back at the pharmacy with ``capsules`` unused (capsules, or mL of a liquid)."""
    if not kit.dispensed_on:
        raise ValidationError({"kit": f"kit {kit.code} was never dispensed"})
    if kit.returned_on:
        raise ValidationError({"kit": f"kit {kit.code} is already back"})
    units = kit_units(kit.study.protocol.dosing)
    if not 0 <= capsules <= kit.capsules:
        raise ValidationError(
            {"capsules": f"between 0 and the {kit.capsules} {units} the kit held"}
        )
    problem = date_problem(
        on, zone=kit.slot.participant.timezone, not_before=kit.dispensed_on,
        what="the kit was dispensed",
    )  # fmt: skip
    if problem:
        raise ValidationError({"on": problem})
    kit.returned_on, kit.returned_capsules = on, capsules
    with because(f"returned with {capsules} {units}"):
        kit.save(actor=actor)
    return kit


def to_dispense(study: Study, today: date, days: int = SOON_DAYS) -> list[dict]:
    """Kits not yet handed out at active participants' visits due now or in ``days`` days.

    For the pharmacist's list: each visit (participant, number, date, window) with the
    codes of its kits, soonest first; overdue visits come first of all.
    """
    horizon = today + timedelta(days=days)
    kits = (
        Kit.objects.filter(
            study=study, dispensed_on__isnull=True, slot__participant__status="active"
        )
        .select_related("slot__participant")
        .order_by("code")
    )
    by_visit: dict[tuple[int, int], list[Kit]] = {}
    for kit in kits:
        by_visit.setdefault((kit.slot.participant.pk, kit.dispense_visit), []).append(kit)
    rows = []
    for (_, number), visit_kits in by_visit.items():
        person = visit_kits[0].slot.participant
        visit = next((v for v in person.visit_calendar() if v["visit"] == number), None)
        if visit is not None and visit["earliest"] <= horizon:
            rows.append(
                {"participant": person, **visit, "kit_codes": [k.code for k in visit_kits]}
            )
    return sorted(rows, key=lambda row: (row["date"], row["participant"].code))
