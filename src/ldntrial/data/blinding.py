"""What a blinded view keeps of each study day: only what every sequence has in common.

Masking the names of the arms is not enough. In crossover-2013 LDN lasts 84
days and placebo 28, so a period that ends on study day 42 was placebo: a
view that keeps each participant's own phase boundaries tells her sequence.
:func:`blinded_calendar` therefore describes a study day by the protocol
alone, the same for every sequence:

- ``phase`` keeps its name on days when every sequence is in the same open
  phase (baseline, follow-up); every other day is ``period N``;
- ``period`` numbers the stretches of days on which some sequence is treated,
  cut wherever any sequence starts or ends a phase (0 when none is treated).
  Where the sequences share their timing (an AB/BA crossover, an N-of-1's
  pairs) this is the real period; in crossover-2013 it gives three periods
  (days 15-42, 43-98, 99-126) where each arm has two;
- ``condition`` is ``blinded`` on every day that is not kept by name.

Days after the shortest sequence ends are dropped when the sequences differ
in length, since that a day exists would then say which sequence has it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ldntrial.protocol.model import Protocol
from ldntrial.protocol.schedule import plan_sequence
from ldntrial.vocab import AllocationMethod, Blinding, ConditionKind

__all__ = ["BLINDED_VIEW_NOTE", "MASKED", "BlindedCalendar", "blinded_calendar"]

MASKED = "blinded"

# What every blinded export says about itself (export.json), in the words of the README.
BLINDED_VIEW_NOTE = {
    "keeps": [
        "every participant, diary value, visit measure, lab result and adverse event",
        "dates and study days",
        "phase names on days when every sequence is in the same open phase (baseline, "
        "washout, follow-up)",
    ],
    "drops": [
        "the sequence (every participant reads 'blinded') and any assigned dose",
        "the phase, period and condition of each participant's own arm: on other days "
        "the phase is 'period N' and the condition 'blinded', where period N is the "
        "same stretch of study days for every participant, cut wherever any sequence "
        "starts or ends a phase",
        "the blinding guesses: which visit's guess is about which period depends on the sequence",
        "days after the shortest sequence ends, when the sequences differ in length",
    ],
    "why": "when the sequences differ in timing (crossover-2013: 84 days of LDN, 28 of "
    "placebo), the day a participant's own period ends tells her arm; nothing kept "
    "here differs between two participants on different sequences except what they "
    "reported and what was measured",
}


@dataclass(frozen=True)
class BlindedCalendar:
    """Phase, condition and period of each study day (index 0 is day 1) in a blinded view."""

    phase: np.ndarray
    condition: np.ndarray
    period: np.ndarray
    lengths_differ: bool

    @property
    def days(self) -> int:
        """Study days every sequence has."""
        return len(self.phase)

    def place(self, table: pd.DataFrame, *, condition: bool) -> pd.DataFrame:
        """``table`` with phase, period (and condition) replaced by the calendar's, by study day.

        Rows before day 1 take day 1; rows after the end take the last day,
        unless the sequences differ in length, when they are dropped.
        """
        if self.lengths_differ:
            table = table[table["study_day"] <= self.days]
        index = np.clip(table["study_day"].to_numpy(dtype=np.int64), 1, self.days) - 1
        table = table.copy()
        table["phase"] = self.phase[index]
        table["period"] = self.period[index]
        if condition:
            table["condition"] = self.condition[index]
        return table


def blinded_calendar(protocol: Protocol) -> BlindedCalendar:
    """The study days of ``protocol`` described by what all its sequences share."""
    # An up-and-down design's dose is the participant's own; the calendar does not depend on it.
    dose = math.nan if protocol.allocation.method == AllocationMethod.UP_AND_DOWN else None
    plans = [plan_sequence(protocol, s.name, dose_mg=dose) for s in protocol.all_sequences]
    days = min(plan.total_days for plan in plans)
    phases = np.array([plan.phase[:days] for plan in plans])
    periods = np.array([plan.period[:days] for plan in plans])
    treated = np.array([plan.kind[:days] != ConditionKind.NONE for plan in plans])
    open_phase = np.array([plan.blinding[:days] == Blinding.OPEN for plan in plans])

    shared = (phases == phases[0]).all(axis=0) & (periods == periods[0]).all(axis=0)
    kept = shared & open_phase.all(axis=0)
    # A stretch starts wherever any sequence starts a phase or a period.
    starts = np.ones(days, dtype=bool)
    starts[1:] = ((phases[:, 1:] != phases[:, :-1]) | (periods[:, 1:] != periods[:, :-1])).any(
        axis=0
    )
    someone_treated = treated.any(axis=0)
    stretch = np.cumsum(starts & someone_treated)
    period = np.where(someone_treated, stretch, 0)

    phase = np.where(kept, phases[0], np.char.add("period ", period.astype(str))).astype(object)
    condition = np.where(kept, np.array([plans[0].condition[:days]])[0], MASKED).astype(object)
    return BlindedCalendar(
        phase=phase,
        condition=condition,
        period=period.astype(np.int64),
        lengths_differ=len({plan.total_days for plan in plans}) > 1,
    )
