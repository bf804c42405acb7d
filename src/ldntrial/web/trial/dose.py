"""Blind dose reduction: ordered by the investigator, applied by the pharmacist to any arm.

The 2013 trial allowed a reduction from 4.5 to 3 mg for side effects
(protocol field ``reduced_dose_mg``). Ordering reveals nothing, and applying
it changes LDN kits' dose and every kit's label alike, so neither the site
nor the participant can tell the arms apart by it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ldntrial.vocab import ConditionKind
from ldntrial.web.audit.tracking import actor_for, because
from ldntrial.web.trial.concealed import KitContents, contents_of, set_contents, set_lot
from ldntrial.web.trial.models import DoseReduction, Kit, Participant

__all__ = ["apply_dose_reduction", "order_dose_reduction"]


def order_dose_reduction(participant: Participant, user, reason: str) -> DoseReduction:
    """The investigator's blind order; refused if the protocol has no reduced dose."""
    actor = actor_for(user)
    protocol = participant.study.protocol
    if not any(c.reduced_dose_mg for c in protocol.conditions.values()):
        raise ValidationError({"reason": "the protocol allows no dose reduction"})
    if not reason.strip():
        raise ValidationError({"reason": "required: which side effect, and since when"})
    if participant.dose_reductions.exists():
        raise ValidationError({"reason": "her dose has already been reduced once"})
    return DoseReduction.objects.create(
        participant=participant,
        ordered_by=user,
        ordered_at=timezone.now(),
        reason=reason,
        actor=actor,
    )


def apply_dose_reduction(order: DoseReduction, *, actor: str) -> int:
    """Relabel her kits not yet dispensed and lower the LDN ones' dose; returns kits changed.

    Every such kit, placebo too, is filled again: its lot is cleared, to be
    recorded anew before it goes out.
    """
    if order.applied_at:
        raise ValidationError({"order": "already applied"})
    protocol = order.participant.study.protocol
    with transaction.atomic(), because(f"dose reduction ordered {order.ordered_at:%Y-%m-%d}"):
        kits = Kit.objects.select_for_update().filter(
            slot=order.participant.slot, dispensed_on__isnull=True
        )
        for kit in kits:
            contents = contents_of(kit)
            condition = protocol.conditions[contents.condition]
            if condition.kind == ConditionKind.LDN and condition.reduced_dose_mg:
                dose = condition.reduced_dose_mg
                per_ml = contents.mg_per_ml
                if per_ml is not None:
                    per_ml = dose / (protocol.dosing.ml_per_day or 1)
                set_contents(kit, KitContents(contents.condition, dose, per_ml))
            kit.reduced = True
            set_lot(kit, None)
            kit.save(actor=actor)
        order.applied_at = timezone.now()
        order.save(actor=actor)
    return len(kits)
