"""Protocols: the study design files, and what follows from them.

Loading and validating (:mod:`.loader`, :mod:`.model`, :mod:`.rules`), the
participant calendar (:mod:`.schedule`), allocation (:mod:`.randomisation`),
blinded kits (:mod:`.kits`), screening (:mod:`.eligibility`) and the
end-point windows (:mod:`.windows`).
"""

from ldntrial.protocol.eligibility import EligibilityDecision, ScreeningAnswers, screen
from ldntrial.protocol.kits import KitList, prepare_kits
from ldntrial.protocol.loader import (
    builtin_protocol_ids,
    load_protocol,
    parse_protocol,
    protocol_to_toml,
)
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.randomisation import (
    AllocationList,
    allocation_list,
    next_up_and_down_dose,
)
from ldntrial.protocol.schedule import Schedule, build_schedule, plan_sequence

__all__ = [
    "AllocationList",
    "EligibilityDecision",
    "KitList",
    "Protocol",
    "Schedule",
    "ScreeningAnswers",
    "allocation_list",
    "build_schedule",
    "builtin_protocol_ids",
    "load_protocol",
    "next_up_and_down_dose",
    "parse_protocol",
    "plan_sequence",
    "prepare_kits",
    "protocol_to_toml",
    "screen",
]
