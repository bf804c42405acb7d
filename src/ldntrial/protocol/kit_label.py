"""What a kit's label says: enough to take it safely, nothing that tells its arm.

The label goes home with the participant, so it is written from what every
arm shares: the study, her number, the kit's code, the conditions a blinded
kit may hold (all of them, in protocol order), how much it holds, how to take
it and the date to use it by. A liquid's concentration, the lot and the lot's
own beyond-use date stay on the pharmacy's list: a placebo compounded on
another day, or a dose made in another batch, would differ there.

The use-by date comes from her schedule, not from the lot: the kit's last
planned day plus its spare days, the same for every arm. Dispensing checks
that the kit's lot keeps at least that long.
The caution line is the one EU GMP Annex 13 (section 26) requires on
investigational medicinal products: "For clinical trial use only".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ldntrial.protocol.dosage_form import kit_units
from ldntrial.protocol.model import Protocol
from ldntrial.vocab import Blinding

__all__ = ["CLINICAL_TRIAL_USE", "KitLabel", "blinded_contents", "kit_label", "label_use_by"]

CLINICAL_TRIAL_USE = "For clinical trial use only"
_WHEN = {"bedtime": "at bedtime", "morning": "in the morning", "evening": "in the evening"}


@dataclass(frozen=True)
class KitLabel:
    """The lines printed on one kit, top to bottom."""

    study: str
    kit_code: str
    participant: str
    contents: str
    quantity: str
    directions: str
    use_by: date
    storage: str | None
    caution: str = CLINICAL_TRIAL_USE


def blinded_contents(protocol: Protocol) -> str:
    """What any blinded kit may hold: every condition of a blinded phase, named in order."""
    names: list[str] = []
    for phase in protocol.phases:
        if phase.blinding != Blinding.OPEN:
            condition = protocol.conditions[phase.condition]
            name = condition.label or phase.condition
            if name not in names:
                names.append(name)
    return " or ".join(names)


def label_use_by(protocol: Protocol, enrolled_on: date, last_day: int) -> date:
    """Her kit's use-by date: its last planned day and then its spare days."""
    return enrolled_on + timedelta(days=last_day - 1 + protocol.dosing.spare_days)


def kit_label(
    protocol: Protocol,
    *,
    study: str,
    kit_code: str,
    participant: str,
    condition: str,
    blinded: bool,
    quantity: int,
    use_by: date,
) -> KitLabel:
    """The label of one kit; ``blinded`` when the kit is taken in a blinded phase."""
    dosing = protocol.dosing
    if dosing.form == "capsule":
        per_day = dosing.capsules_per_day
        each = f"{per_day} capsule{'s' if per_day > 1 else ''}"
        storage = None
    else:
        each = f"{dosing.ml_per_day} mL"
        storage = None if dosing.preserved else "Keep in a refrigerator (2 to 8 °C)"
    named = protocol.conditions[condition]
    return KitLabel(
        study=study,
        kit_code=kit_code,
        participant=participant,
        contents=blinded_contents(protocol) if blinded else (named.label or condition),
        quantity=f"{quantity} {kit_units(dosing)}",
        directions=f"Take {each} {_WHEN[dosing.time_of_day]} every day",
        use_by=use_by,
        storage=storage,
    )
