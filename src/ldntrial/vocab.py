"""The words ldntrial uses everywhere, as enums the web layer reuses as choices."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "WITHDRAWAL_REASON_LABELS",
    "AllocationMethod",
    "Blinding",
    "ConditionKind",
    "LateEntryPolicy",
    "MeasureTiming",
    "ParticipantStatus",
    "Sex",
    "WithdrawalReason",
]


class ConditionKind(StrEnum):
    """What a participant takes during a phase."""

    LDN = "ldn"
    PLACEBO = "placebo"
    NONE = "none"


class Blinding(StrEnum):
    """Who does not know the condition during a phase (ICH E9 usage)."""

    OPEN = "open"  # everyone knows
    SINGLE = "single"  # the participant does not know
    DOUBLE = "double"  # participant and investigators do not know
    TRIPLE = "triple"  # participant, investigators and analysts do not know


class AllocationMethod(StrEnum):
    """How participants are given a sequence (and, for up-and-down, a dose)."""

    FIXED = "fixed"  # everyone follows the one sequence (pilot-2009)
    PERMUTED_BLOCKS = "permuted_blocks"  # counterbalanced, blocks of varying size
    RANDOMISED_PAIRS = "randomised_pairs"  # N-of-1: order randomised within each pair
    UP_AND_DOWN = "up_and_down"  # next dose depends on the previous response


class LateEntryPolicy(StrEnum):
    """What happens to a diary entry recorded after its window closed (EPRO-11)."""

    REJECT = "reject"
    FLAG = "flag"


class MeasureTiming(StrEnum):
    """At which visits a visit measure is recorded."""

    EVERY_VISIT = "every_visit"
    TREATMENT_VISITS = "treatment_visits"  # visits during a phase with a pill
    END_OF_BLINDED_PHASE = "end_of_blinded_phase"  # last visit of each blinded phase


class ParticipantStatus(StrEnum):
    """Where a participant is in the study."""

    ENROLLED = "enrolled"
    ACTIVE = "active"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class WithdrawalReason(StrEnum):
    """Why a participant left early: the categories a CONSORT flow diagram counts."""

    CONSENT_WITHDRAWN = "consent_withdrawn"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"
    ADVERSE_EVENT = "adverse_event"
    INVESTIGATOR_DECISION = "investigator_decision"
    OTHER = "other"


WITHDRAWAL_REASON_LABELS = {
    WithdrawalReason.CONSENT_WITHDRAWN: "she withdrew her consent",
    WithdrawalReason.LOST_TO_FOLLOW_UP: "lost to follow-up",
    WithdrawalReason.ADVERSE_EVENT: "an adverse event",
    WithdrawalReason.INVESTIGATOR_DECISION: "the investigator's decision",
    WithdrawalReason.OTHER: "another reason",
}


class Sex(StrEnum):
    """Sex recorded at screening."""

    FEMALE = "female"
    MALE = "male"
