"""Before she starts: what the trials predict for a woman like her, and what her trial can tell.

The physician reads two things before a personal trial begins. First, what
the controlled trials found on average, on her 0-100 pain scale (the pooled
standardised difference times FINAL's 14.8 points per unit, as the evidence
prior uses it), and that they cannot say how much women differ. Second, how
often the design gives a right answer, from simulated patients
(:func:`ldntrial.planning.power.estimate_power`; the figures for the built-in
N-of-1 designs ship in ``reference/nof1_power.json``, made by the command
each entry names). Both are said in plain words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ldntrial.stats.evidence import synthesise
from ldntrial.stats.nof1_priors import FINAL_SD_POINTS

__all__ = ["Outlook", "outlook_for"]

POWER_FILE = Path(__file__).parent / "reference" / "nof1_power.json"


@dataclass(frozen=True)
class Outlook:
    """The two paragraphs the physician reads before she starts, and their figures."""

    evidence: str
    her_trial: str
    mean_points: float
    lower_points: float
    upper_points: float


@cache
def _power_table() -> dict[str, dict[str, dict[str, float]]]:
    table: dict[str, dict[str, dict[str, float]]] = json.loads(
        POWER_FILE.read_text(encoding="utf-8")
    )["designs"]
    return table


def outlook_for(protocol_id: str, *, dose_comparison: bool = False) -> Outlook:
    """The outlook for a personal trial of ``protocol_id`` (a built-in id, or another)."""
    pooled = synthesise().pooled
    mean, lower, upper = (
        value * FINAL_SD_POINTS for value in (pooled.estimate, pooled.ci_lower, pooled.ci_upper)
    )
    if dose_comparison:
        evidence = (
            "No controlled trial compared two doses of LDN for fibromyalgia pain: the trials "
            "cannot predict whether a higher dose helps her more than a lower one. The "
            "dose-finding study put the dose at which half of women responded at 3.88 mg "
            "(Bruun-Plesner et al., Pain Med 2020)."
        )
    else:
        evidence = (
            f"On average, the {pooled.k} controlled trials together found "
            f"{_signed(mean)} points on a 0-100 pain scale in favour of LDN over placebo, "
            f"but the truth could lie anywhere from {_signed(lower)} to {_signed(upper)}: "
            "they cannot tell LDN from placebo on average. They cannot say either how much "
            "women differ, so some may gain much more than the average and some nothing."
        )
    figures = _power_table().get(protocol_id)
    if figures is None:
        her_trial = (
            "How often this design gives a right answer has not been simulated: "
            f"`ldntrial power {protocol_id} --pairs 3` measures it."
        )
    else:
        real, null = figures["stanford"], figures["null"]
        her_trial = (
            f"How much her own trial can tell: among simulated women like those of the "
            f"Stanford trials, this design gave a right answer to {real['p_correct']:.0%} "
            f'and said "cannot tell" to {real["p_cannot_tell"]:.0%}. Among simulated women '
            f'on whom LDN does nothing, it said "probably helped" to '
            f"{null['p_helped']:.0%}. (Simulation: {figures['command']}.)"
        )
    return Outlook(evidence, her_trial, mean, lower, upper)


def _signed(value: float) -> str:
    return f"{value:+.0f}".replace("-", "\u2212")
