"""Which lot each kit was filled from, and what its label says.

The pharmacist records a lot for the kits she filled from it: its number,
the day it was compounded and its beyond-use date (at most the protocol's
beyond-use period after compounding, which is itself at most USP <795>'s;
that period when she gives none). One lot is one preparation (one
condition, dose and concentration), and it must keep until every kit's
label says to use it by; a kit goes out only with its lot known
(standards.md BLD-10, traceability). Neither the lot nor its dates appear
in the audit trail's reasons: a placebo lot compounded on another day would
tell its arm.
The label itself is written from what every arm shares
(:mod:`ldntrial.protocol.kit_label`).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from ldntrial.protocol.dosage_form import beyond_use_days
from ldntrial.protocol.kit_label import KitLabel, kit_label, label_use_by
from ldntrial.protocol.schedule import plan_sequence
from ldntrial.vocab import AllocationMethod, Blinding
from ldntrial.web.audit.tracking import because
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.concealed import (
    KitContents,
    KitLot,
    contents_of,
    lot_of,
    sequence_of,
    set_lot,
)
from ldntrial.web.trial.dates import date_problem
from ldntrial.web.trial.models import Kit, Participant

__all__ = ["kit_use_by", "label_of", "lot_problem", "record_lot"]


def kit_use_by(kit: Kit) -> date:
    """The use-by date on ``kit``'s label: from her schedule, the same in every arm."""
    person = _owner(kit)
    if person is None:
        raise ValueError(f"kit {kit.code}'s slot has no participant yet")
    return label_use_by(kit.study.protocol, person.enrolled_on, kit.last_day)


def lot_problem(kit: Kit) -> str | None:
    """Why ``kit`` cannot go out yet (no lot, or a lot that expires too soon), or None."""
    lot = lot_of(kit)
    if lot is None:
        return f"kit {kit.code} has no lot yet: record its lot and beyond-use date first"
    if _owner(kit) is not None and lot.beyond_use_on < kit_use_by(kit):
        return (
            f"kit {kit.code}'s lot {lot.number} is beyond use on {lot.beyond_use_on:%Y-%m-%d}, "
            f"before the label's use-by date {kit_use_by(kit):%Y-%m-%d}: fill it from a newer lot"
        )
    return None


def record_lot(
    study: Study,
    codes: list[str],
    lot: str,
    compounded_on: date,
    beyond_use_on: date | None = None,
    *,
    actor: str,
) -> list[Kit]:
    """Record that the kits ``codes`` were filled from ``lot``; returns them.

    Refused as a whole (nothing is written) when a code is unknown, a kit is
    already out, the kits hold different preparations, or the beyond-use date
    is later than the protocol allows or before a kit's label use-by date (so
    a lot recorded late, from the pharmacy's paper record, is taken as it was).
    """
    lot = lot.strip()
    if not lot:
        raise ValidationError({"lot": "required: the lot number on the pharmacy's record"})
    wanted = list(dict.fromkeys(code.strip().upper() for code in codes if code.strip()))
    if not wanted:
        raise ValidationError({"kits": "required: the codes of the kits filled from the lot"})
    problem = date_problem(compounded_on)
    if problem:
        raise ValidationError({"compounded_on": problem})
    keeps = beyond_use_days(study.protocol.dosing)
    latest = compounded_on + timedelta(days=keeps)
    beyond_use_on = beyond_use_on or latest
    if beyond_use_on > latest:
        raise ValidationError(
            {"beyond_use_on": f"at most {keeps} days after compounding ({latest:%Y-%m-%d}): "
             "the protocol's beyond-use period (dosing.beyond_use_days, USP <795>)"}
        )  # fmt: skip
    with transaction.atomic():
        kits = {
            kit.code: kit
            for kit in Kit.objects.select_for_update(of=("self",))  # her slot may be empty
            .filter(study=study, code__in=wanted)
            .select_related("slot__participant", "study")
        }
        unknown = [code for code in wanted if code not in kits]
        if unknown:
            raise ValidationError({"kits": f"no kit with code {', '.join(unknown)} in the study"})
        out = [code for code in wanted if kits[code].dispensed_on]
        if out:
            raise ValidationError({"kits": f"already dispensed: {', '.join(out)}"})
        preparations = {_preparation(kit) for kit in kits.values()}
        if len(preparations) > 1:
            raise ValidationError(
                {"kits": "one lot is one preparation, and these kits hold "
                 + " and ".join(sorted(_describe(p) for p in preparations))}
            )  # fmt: skip
        for code in wanted:
            kit = kits[code]
            if _owner(kit) is not None and beyond_use_on < kit_use_by(kit):
                raise ValidationError(
                    {"beyond_use_on": f"kit {code} must keep until {kit_use_by(kit):%Y-%m-%d} "
                     "(its last day and spare days): use a lot that keeps that long"}
                )  # fmt: skip
        with because("lot recorded"):
            for code in wanted:
                set_lot(kits[code], KitLot(lot, beyond_use_on))
                kits[code].save(actor=actor)
    return [kits[code] for code in wanted]


def label_of(kit: Kit) -> KitLabel:
    """The label printed on ``kit`` (the kit's slot must have its participant)."""
    person = kit.slot.participant
    protocol = kit.study.protocol
    up_and_down = protocol.allocation.method == AllocationMethod.UP_AND_DOWN
    contents = contents_of(kit)
    plan = plan_sequence(
        protocol, sequence_of(kit.slot), dose_mg=contents.dose_mg if up_and_down else None
    )
    return kit_label(
        protocol,
        study=kit.study.title,
        kit_code=kit.code,
        participant=f"{person.code} ({kit.slot.randomisation_number})",
        condition=contents.condition,
        blinded=plan.blinding[kit.first_day - 1] != Blinding.OPEN,
        quantity=kit.capsules,
        use_by=kit_use_by(kit),
    )


def _owner(kit: Kit) -> Participant | None:
    """The participant whose slot holds ``kit`` (none before her enrolment)."""
    return Participant.objects.filter(slot=kit.slot_id).first()


def _preparation(kit: Kit) -> tuple[KitContents, bool]:
    return contents_of(kit), kit.reduced


def _describe(preparation: tuple[KitContents, bool]) -> str:
    contents, reduced = preparation
    return f"{contents}{' (reduced)' if reduced else ''}"
