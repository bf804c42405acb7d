"""The liver test a protocol asks for when a woman takes a liver-stressing drug.

Screening sends methotrexate, disulfiram and the other hepatotoxic drugs of
the shipped reference to a clinician's review (:mod:`.eligibility`); with
``eligibility.liver_test_with_hepatotoxic_drugs`` the protocol also asks for
a liver test (ALT and AST, in U/L) before her first dose. The naltrexone
label counts hepatotoxicity among its warnings and calls the use of two
potentially hepatotoxic drugs ordinarily not recommended (the reference's
source column). The test is scheduled on a day every arm shares, the day
before the first dose of any sequence, so its date tells no allocation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ldntrial.protocol.model import LabPanel, Protocol
from ldntrial.protocol.schedule import plan_sequence

__all__ = [
    "LIVER_PANEL",
    "asks_liver_test",
    "first_dose_day",
    "lab_panels",
    "needs_liver_test",
]

LIVER_PANEL = LabPanel(
    id="liver", label="Liver test (ALT, AST)", unit="U/L", analytes=["alt", "ast"]
)


def asks_liver_test(protocol: Protocol) -> bool:
    """True when the protocol asks for a liver test after a liver-stressing drug."""
    rules = protocol.eligibility
    return rules.review_hepatotoxic_drugs and rules.liver_test_with_hepatotoxic_drugs


def lab_panels(protocol: Protocol) -> list[LabPanel]:
    """The panels a site may record: the protocol's, and the liver test when it asks for one."""
    panels = list(protocol.labs)
    if asks_liver_test(protocol) and all(panel.id != LIVER_PANEL.id for panel in panels):
        panels.append(LIVER_PANEL)
    return panels


def needs_liver_test(protocol: Protocol, reasons: Iterable[Mapping[str, str]]) -> bool:
    """True when her screening found a hepatotoxic drug and the protocol asks for the test."""
    return asks_liver_test(protocol) and any(r["rule"] == "hepatotoxic" for r in reasons)


def first_dose_day(protocol: Protocol) -> int:
    """The earliest study day any sequence takes a study capsule (1 when none waits)."""
    dose = protocol.up_and_down.start_mg if protocol.up_and_down else None
    days = []
    for sequence in protocol.all_sequences:
        plan = plan_sequence(protocol, sequence.name, dose_mg=dose)
        treated = (plan.exposure_day > 0).nonzero()[0]
        if len(treated):
            days.append(int(treated[0]) + 1)
    return min(days, default=1)
