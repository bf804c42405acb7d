"""What a kit holds (capsules or a compounded liquid) and how long it may be used.

A liquid stays blind only if every arm takes the same volume: the dose is in
the concentration (mg per mL, placebo 0), which only the pharmacy's list
shows. The longest a compounded preparation may be used without a stability
study of its own is USP General Chapter <795> "Pharmaceutical Compounding -
Nonsterile Preparations" (revised 2022, official 1 November 2023), Table 4:
solid dosage forms (capsules) 180 days; preserved aqueous preparations 35
days; non-preserved aqueous preparations 14 days, refrigerated.
"""

from __future__ import annotations

from collections.abc import Iterable

from ldntrial.errors import ProtocolIssue
from ldntrial.protocol.model import Dosing, Protocol
from ldntrial.protocol.schedule import kit_runs, plan_sequence

__all__ = [
    "USP_795_SOURCE",
    "beyond_use_days",
    "dosing_issues",
    "kit_units",
    "longest_beyond_use_days",
]

USP_795_SOURCE = (
    "USP General Chapter <795> Pharmaceutical Compounding - Nonsterile Preparations "
    "(official 1 November 2023), Table 4"
)


def longest_beyond_use_days(dosing: Dosing) -> int:
    """USP <795>'s limit for the protocol's dosage form, in days from compounding."""
    if dosing.form == "capsule":
        return 180
    return 35 if dosing.preserved else 14


def beyond_use_days(dosing: Dosing) -> int:
    """The protocol's beyond-use period: its own (never longer than USP's) or USP's."""
    return dosing.beyond_use_days or longest_beyond_use_days(dosing)


def kit_units(dosing: Dosing) -> str:
    """What a kit's count counts: "capsules", or "mL" of a liquid."""
    return "capsules" if dosing.form == "capsule" else "mL"


def dosing_issues(protocol: Protocol) -> Iterable[ProtocolIssue]:
    """The ``[dosing]`` rules: a liquid's volume, and kits used up before they expire.

    A kit is compounded at the latest when it is dispensed, so its last spare
    day must fall within the beyond-use period counted from its dispensing
    visit. Run once the rest of the protocol holds (it lays out every sequence).
    """
    dosing = protocol.dosing
    if dosing.form == "liquid" and dosing.ml_per_day is None:
        yield ProtocolIssue(
            "dosing.ml_per_day",
            "a liquid needs the millilitres taken each day, the same in every arm "
            "(the dose is in the concentration)",
        )
    if dosing.form == "capsule":
        for field in ("ml_per_day", "preserved"):
            if getattr(dosing, field) is not None:
                yield ProtocolIssue(f"dosing.{field}", 'only a liquid has it (form = "liquid")')
    limit = longest_beyond_use_days(dosing)
    if dosing.beyond_use_days is not None and dosing.beyond_use_days > limit:
        yield ProtocolIssue(
            "dosing.beyond_use_days",
            f"at most {limit} days for this form ({USP_795_SOURCE}), got {dosing.beyond_use_days}",
        )
        return
    yield from _kits_outlast_issues(protocol)


def _kits_outlast_issues(protocol: Protocol) -> Iterable[ProtocolIssue]:
    keeps = beyond_use_days(protocol.dosing)
    # An up-and-down kit's days are the same at every dose: plan it at the starting one.
    dose = protocol.up_and_down.start_mg if protocol.up_and_down else None
    for sequence in protocol.all_sequences:
        plan = plan_sequence(protocol, sequence.name, dose_mg=dose)
        visit_days = plan.visit_days.tolist() or [1]
        for kit in kit_runs(protocol, plan):
            lasts = (
                kit["last_day"]
                + protocol.dosing.spare_days
                - visit_days[kit["dispense_visit"] - 1]
            )
            if lasts + 1 > keeps:
                yield ProtocolIssue(
                    "dosing.beyond_use_days",
                    f"kit {kit['kit_number']} of sequence '{sequence.name}' must keep "
                    f"{lasts + 1} days from its dispensing visit (spare days included), "
                    f"longer than the {keeps}-day beyond-use period: dispense more often "
                    "(visits.interval_days) or use fewer spare days",
                )
                return
