"""Protocols: the study design files, and what follows from them.

Loading and validating (:mod:`.loader`, :mod:`.model`, :mod:`.rules`), the
participant calendar (:mod:`.schedule`), allocation (:mod:`.randomisation`),
blinded kits (:mod:`.kits`), screening (:mod:`.eligibility`) and the
end-point windows (:mod:`.windows`). The names below are imported on first
use: reading a protocol (``ldntrial protocol list``) does not load pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ldntrial.lazy_exports import lazy_exports

if TYPE_CHECKING:
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

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "EligibilityDecision": "ldntrial.protocol.eligibility",
        "ScreeningAnswers": "ldntrial.protocol.eligibility",
        "screen": "ldntrial.protocol.eligibility",
        "KitList": "ldntrial.protocol.kits",
        "prepare_kits": "ldntrial.protocol.kits",
        "builtin_protocol_ids": "ldntrial.protocol.loader",
        "load_protocol": "ldntrial.protocol.loader",
        "parse_protocol": "ldntrial.protocol.loader",
        "protocol_to_toml": "ldntrial.protocol.loader",
        "Protocol": "ldntrial.protocol.model",
        "AllocationList": "ldntrial.protocol.randomisation",
        "allocation_list": "ldntrial.protocol.randomisation",
        "next_up_and_down_dose": "ldntrial.protocol.randomisation",
        "Schedule": "ldntrial.protocol.schedule",
        "build_schedule": "ldntrial.protocol.schedule",
        "plan_sequence": "ldntrial.protocol.schedule",
    },
)
