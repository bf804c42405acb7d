"""The participant flow (CONSORT): who was screened and excluded, and why the allocated withdrew.

CONSORT 2010 item 13 (Schulz et al., BMJ 2010;340:c332) asks, for each
group, the numbers assessed for eligibility, excluded (with reasons),
allocated, lost or discontinued (with reasons) and analysed. Screening is
kept by the site, not in the TrialData: whoever has it (the database of a
locked study) passes :class:`Screened`; without it the report says so.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from ldntrial.vocab import WITHDRAWAL_REASON_LABELS, WithdrawalReason

__all__ = ["NOT_RECORDED", "Screened", "withdrawal_reasons"]

NOT_RECORDED = "reason not recorded"


@dataclass(frozen=True)
class Screened:
    """Those assessed for eligibility, and why those not allocated were not."""

    assessed: int
    excluded: tuple[tuple[str, int], ...]  # (reason, how many), most frequent first

    @property
    def excluded_total(self) -> int:
        return sum(count for _, count in self.excluded)

    @classmethod
    def from_reasons(cls, assessed: int, reasons: list[str]) -> Screened:
        """``reasons``: one per person screened and not allocated."""
        counted = Counter(reasons).most_common()
        return cls(assessed, tuple(sorted(counted, key=lambda pair: (-pair[1], pair[0]))))


def withdrawal_reasons(participants: pd.DataFrame) -> list[tuple[str, int]]:
    """(reason, how many) among the withdrawn of ``participants``, most frequent first."""
    withdrawn = participants[participants["status"] == "withdrawn"]
    if "withdrawal_reason" not in withdrawn:
        return [(NOT_RECORDED, len(withdrawn))] if len(withdrawn) else []
    labels = [
        WITHDRAWAL_REASON_LABELS[WithdrawalReason(value)]
        if isinstance(value, str)
        else NOT_RECORDED
        for value in withdrawn["withdrawal_reason"]
    ]
    return sorted(Counter(labels).items(), key=lambda pair: (-pair[1], pair[0]))
