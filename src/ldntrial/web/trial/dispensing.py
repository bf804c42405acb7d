"""Dispensing kits at visits and counting the capsules that come back (drug accountability).

The pharmacist hands out the kits of her slot that the protocol dispenses at
a visit, in kit order; a kit comes back with its unused capsules counted.
Capsules taken = capsules in the kit - returned (adherence, standards.md BLD-10).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from ldntrial.web.audit.tracking import because
from ldntrial.web.trial.dates import date_problem
from ldntrial.web.trial.models import Kit, Participant
from ldntrial.web.trial.visits import planned_visit

__all__ = ["dispense_visit_kits", "record_return"]


def dispense_visit_kits(participant: Participant, visit: int, on: date) -> list[Kit]:
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
        with because(f"dispensed at visit {visit}"):
            for kit in kits:
                kit.dispensed_on = on
                kit.save()
    return kits


def record_return(kit: Kit, on: date, capsules: int) -> Kit:
    """A kit back at the pharmacy with ``capsules`` unused."""
    if not kit.dispensed_on:
        raise ValidationError({"kit": f"kit {kit.code} was never dispensed"})
    if kit.returned_on:
        raise ValidationError({"kit": f"kit {kit.code} is already back"})
    if not 0 <= capsules <= kit.capsules:
        raise ValidationError(
            {"capsules": f"between 0 and the {kit.capsules} capsules the kit held"}
        )
    problem = date_problem(
        on, zone=kit.slot.participant.timezone, not_before=kit.dispensed_on,
        what="the kit was dispensed",
    )  # fmt: skip
    if problem:
        raise ValidationError({"on": problem})
    kit.returned_on, kit.returned_capsules = on, capsules
    with because(f"returned with {capsules} capsules"):
        kit.save()
    return kit
