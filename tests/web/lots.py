"""The pharmacist's step before a visit's kits go out: the lot they were filled from."""

from __future__ import annotations

from datetime import timedelta

from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.kit_lots import kit_use_by, record_lot
from ldntrial.web.trial.models import Kit, Participant


def fill_from_a_lot(person: Participant, visit: int, lot: str = "L-TEST") -> list[Kit]:
    """Record ``lot`` for her kits of ``visit``, compounded 20 days before the first's use-by."""
    kits = list(Kit.objects.filter(slot=person.slot, dispense_visit=visit))
    compounded = min(min(kit_use_by(kit) for kit in kits) - timedelta(days=20), local_today())
    return record_lot(
        person.study, [kit.code for kit in kits], lot, compounded, actor="user:4:phil"
    )
