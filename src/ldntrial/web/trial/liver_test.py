"""Her liver test before the first dose, when screening found a liver-stressing drug.

Due by the day before the first dose of any sequence (the same day in every
arm, :func:`ldntrial.protocol.liver_test.first_dose_day`); done once both
ALT and AST are recorded for one draw. Her record shows it; the result is
entered like any lab (:mod:`.labs`), on her page or by import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ldntrial.protocol.liver_test import LIVER_PANEL, first_dose_day, needs_liver_test
from ldntrial.web.trial.models import Participant

__all__ = ["LiverTest", "liver_test_of"]


@dataclass(frozen=True)
class LiverTest:
    """Why she needs the test, the day it is due by and the day of the draw that did it."""

    why: str
    due_by: date
    done_on: date | None

    def state_on(self, today: date) -> str:
        """done, due or overdue on ``today``."""
        if self.done_on:
            return "done"
        return "overdue" if today > self.due_by else "due"


def liver_test_of(person: Participant) -> LiverTest | None:
    """Her liver test, or None when her protocol or her screening asks for none."""
    protocol = person.study.protocol
    reasons = person.screening.reasons
    if not needs_liver_test(protocol, reasons):
        return None
    drugs = "; ".join(r["message"] for r in reasons if r["rule"] == "hepatotoxic")
    due_by = person.enrolled_on + timedelta(days=first_dose_day(protocol) - 2)
    draws: dict[date, set[str]] = {}
    for sampled_on, analyte in person.lab_results.filter(panel=LIVER_PANEL.id).values_list(
        "sampled_on", "analyte"
    ):
        draws.setdefault(sampled_on, set()).add(analyte)
    complete = sorted(day for day, seen in draws.items() if seen >= set(LIVER_PANEL.analytes))
    return LiverTest(why=drugs, due_by=due_by, done_on=complete[0] if complete else None)
