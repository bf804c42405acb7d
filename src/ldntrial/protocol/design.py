"""Which kind of study a protocol is, so that the analysis runs what its design allows.

A crossover can compare LDN and placebo within each woman; a fixed order
(pilot-2009) can too, but cannot separate the drug from time; a parallel
trial compares groups; a single-arm study compares LDN with baseline; an
up-and-down study estimates doses; an N-of-1 series answers per patient.
A protocol computes its own once (``protocol.design``, ``protocol.comparison``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from ldntrial.vocab import AllocationMethod, ConditionKind

if TYPE_CHECKING:  # the protocol model derives its design from here
    from ldntrial.protocol.model import Protocol

__all__ = ["Comparison", "Design", "classify_design", "comparison_of", "top_dose_mg"]


class Design(StrEnum):
    """The design families the analyses know."""

    CROSSOVER = "crossover"
    FIXED_ORDER = "fixed_order"
    PARALLEL = "parallel"
    SINGLE_ARM = "single_arm"
    DOSE_FINDING = "dose_finding"
    NOF1 = "nof1"


@dataclass(frozen=True)
class Comparison:
    """The two conditions an analysis contrasts: LDN against placebo, or against baseline.

    ``comparator`` is None when there is no placebo condition; the comparison
    is then against the baseline phase (``baseline_phase``). In a comparison
    of two doses (no placebo, two LDN conditions) the higher dose is the
    treatment and the lower the comparator, and ``dose_comparison`` is true.
    """

    treatment: str
    comparator: str | None
    baseline_phase: str
    untreated: str
    dose_comparison: bool = False

    @property
    def conditions(self) -> list[str]:
        """The treated conditions compared: LDN, then its placebo if there is one."""
        return [self.treatment, *([self.comparator] if self.comparator else [])]

    @property
    def comparator_label(self) -> str:
        """How the comparator reads in a term name and a sentence."""
        return self.comparator or "baseline"


def classify_design(protocol: Protocol) -> Design:
    """The :class:`Design` of ``protocol``, from its allocation and its sequences."""
    method = protocol.allocation.method
    if method == AllocationMethod.UP_AND_DOWN:
        return Design.DOSE_FINDING
    if method == AllocationMethod.RANDOMISED_PAIRS:
        return Design.NOF1
    comparison = protocol.comparison
    if comparison.comparator is None:
        return Design.SINGLE_ARM
    treated_sets = [
        {protocol.phase(name).condition for name in sequence.phases}
        for sequence in protocol.all_sequences
    ]
    both = all({comparison.treatment, comparison.comparator} <= s for s in treated_sets)
    if not both:
        return Design.PARALLEL
    return Design.CROSSOVER if len(treated_sets) > 1 else Design.FIXED_ORDER


def comparison_of(protocol: Protocol) -> Comparison:
    """The LDN condition, its placebo (if any) and the untreated condition of ``protocol``."""

    def first_of(kind: ConditionKind) -> str | None:
        return next((key for key, c in protocol.conditions.items() if c.kind == kind), None)

    treatment = first_of(ConditionKind.LDN)
    if treatment is None:
        raise KeyError("the protocol has no LDN condition")
    comparator = first_of(ConditionKind.PLACEBO)
    doses = [key for key, c in protocol.conditions.items() if c.kind == ConditionKind.LDN]
    dose_comparison = comparator is None and len(doses) == 2
    if dose_comparison:
        # 4.5 mg against 1.5 mg: the higher dose is compared with the lower.
        treatment, comparator = sorted(doses, key=lambda key: -top_dose_mg(protocol, key))
    baseline_phase = protocol.endpoints.baseline_phase
    return Comparison(
        treatment=treatment,
        comparator=comparator,
        baseline_phase=baseline_phase,
        untreated=protocol.phase(baseline_phase).condition,
        dose_comparison=dose_comparison,
    )


def top_dose_mg(protocol: Protocol, key: str) -> float:
    """A condition's dose, or the dose its titration reaches (0 if set per participant)."""
    condition = protocol.conditions[key]
    if condition.titration is not None:
        return condition.titration.max_mg
    return condition.dose_mg or 0.0
