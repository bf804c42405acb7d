"""The evidence synthesis as people read it: a forest plot and what it says in words.

Both the ``ldntrial evidence`` command and the evidence page draw from here,
so the figure, the numbers and the sentence are the same wherever they are
read. The sentence never says more than the interval does: an interval that
spans no effect is "cannot tell", whatever side the middle falls on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ldntrial.stats.evidence import Synthesis
from ldntrial.stats.meta_analysis import Pooled

__all__ = ["EvidenceLine", "evidence_lines", "forest_plot", "what_it_says"]

LDN_BLUE = "#0072B2"  # Okabe & Ito, as the report's other figures
NOT_POOLED_GREY = "#777777"
SMALL_EFFECT = 0.2
"""A standardised difference of 0.2 is "small" (Cohen, Statistical Power Analysis, 1988)."""


@dataclass(frozen=True)
class EvidenceLine:
    """One trial as a line of the forest plot and of the table beside it."""

    label: str
    design: str
    n: int
    effect: float
    ci_lower: float
    ci_upper: float
    kind: str
    weight_percent: float | None


def evidence_lines(synthesis: Synthesis) -> list[EvidenceLine]:
    """The trials in the table's order, each with its weight (None if not pooled)."""
    weights = dict(zip(synthesis.pooled_rows, synthesis.pooled.weights_percent, strict=True))
    lines = []
    for index, (row, effect) in enumerate(
        zip(synthesis.table.rows, synthesis.effects, strict=True)
    ):
        lines.append(
            EvidenceLine(
                label=row.label,
                design=row.design,
                n=row.n_analysed,
                effect=effect.estimate,
                ci_lower=effect.ci_lower,
                ci_upper=effect.ci_upper,
                kind=effect.kind,
                weight_percent=weights.get(index),
            )
        )
    return lines


def _fmt(value: float) -> str:
    return f"{value:.2f}".replace("-", "\u2212")


def what_it_says(pooled: Pooled) -> str:
    """The synthesis in one plain paragraph, as sure as its interval and no surer."""
    middle = (
        f"{_fmt(pooled.estimate)} (95 % CI {_fmt(pooled.ci_lower)} to {_fmt(pooled.ci_upper)})"
    )
    if pooled.finding == "benefit":
        verdict = f"Together the {pooled.k} trials favour LDN over placebo on pain: {middle}."
        if pooled.ci_lower < SMALL_EFFECT:
            verdict += " The benefit may be smaller than what counts as small (0.2)."
    elif pooled.finding == "harm":
        verdict = f"Together the {pooled.k} trials favour placebo over LDN on pain: {middle}."
    else:
        verdict = (
            f"Together the {pooled.k} trials cannot tell LDN from placebo on pain: {middle}; "
            "the interval holds no effect as well as a benefit or a harm."
        )
    spread = (
        f" How far the trials disagree: I\u00b2 {pooled.i2_percent:.0f} %, tau {pooled.tau:.2f} "
        f"(Cochran's Q p = {pooled.q_p_value:.2f})"
    )
    if pooled.prediction_lower is not None and pooled.prediction_upper is not None:
        spread += (
            f"; in a new group of women like these the effect could lie between "
            f"{_fmt(pooled.prediction_lower)} and {_fmt(pooled.prediction_upper)} "
            "(a prediction interval that, with so few trials, is if anything too narrow)."
        )
    else:
        spread += "."
    return verdict + spread


def forest_plot(synthesis: Synthesis) -> Figure:
    """Each trial's effect with its 95 % CI, square by weight; the pooled diamond below.

    Trials outside the synthesis are drawn in grey with open squares, so the
    reader sees them and sees that they did not count.
    """
    lines = evidence_lines(synthesis)
    pooled = synthesis.pooled
    rows = len(lines) + 2
    figure = Figure(figsize=(7.0, 0.42 * rows + 1.2))
    axes = figure.add_subplot()
    for position, line in enumerate(lines):
        y = rows - position
        pooled_line = line.weight_percent is not None
        colour = LDN_BLUE if pooled_line else NOT_POOLED_GREY
        axes.plot([line.ci_lower, line.ci_upper], [y, y], color=colour, linewidth=1.2)
        size = 4 + 0.5 * line.weight_percent if line.weight_percent is not None else 6
        axes.plot(
            line.effect,
            y,
            marker="s",
            markersize=size,
            color=colour,
            markerfacecolor=colour if pooled_line else "white",
        )
        axes.text(-0.02, y, f"{line.label} ({line.kind}, n {line.n})", ha="right", va="center",
                  transform=axes.get_yaxis_transform(), fontsize=8, color=colour)  # fmt: skip
    y = 1
    diamond_x = [pooled.ci_lower, pooled.estimate, pooled.ci_upper, pooled.estimate]
    axes.fill(diamond_x, [y, y + 0.3, y, y - 0.3], color="black")
    if pooled.prediction_lower is not None and pooled.prediction_upper is not None:
        axes.plot([pooled.prediction_lower, pooled.prediction_upper], [y, y], color="black",
                  linewidth=0.8, linestyle="--")  # fmt: skip
    axes.text(-0.02, y, f"Random effects, {pooled.k} trials", ha="right", va="center",
              transform=axes.get_yaxis_transform(), fontsize=8, fontweight="bold")  # fmt: skip
    axes.axvline(0, color="grey", linewidth=0.8)
    ends = [x for line in lines for x in (line.ci_lower, line.ci_upper)]
    if pooled.prediction_lower is not None and pooled.prediction_upper is not None:
        ends += [pooled.prediction_lower, pooled.prediction_upper]
    reach = max(abs(float(np.min(ends))), abs(float(np.max(ends))), 0.5) * 1.05
    axes.set_xlim(-reach, reach)
    axes.set_ylim(0.3, rows + 0.7)
    axes.set_yticks([])
    axes.set_xlabel(
        "standardised difference in pain (d), with 95 % CI\n"
        "\u2190 favours placebo          favours LDN \u2192"
    )
    axes.spines[["top", "right", "left"]].set_visible(False)
    return figure
