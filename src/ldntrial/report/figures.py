"""The report's figures, drawn with matplotlib.

Figures are built as ``matplotlib.figure.Figure`` objects, never through
pyplot, so no global state or screen is involved and PNG output uses the Agg
renderer whatever backend the user has chosen. Colours are colour-blind safe
and every line also differs in style, so the figures read in grey print.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ldntrial.planning.power import PowerResult

__all__ = [
    "FigureView",
    "cytokine_heatmap",
    "daily_course_figure",
    "dose_sequence_figure",
    "embed",
    "esr_figure",
    "participant_panels",
    "personal_course_figure",
    "power_curve",
    "save_png",
    "style_for",
    "thresholds_figure",
    "to_data_uri",
]

DPI = 150


def save_png(figure: Figure, path: Path) -> Path:
    """Write ``figure`` to ``path`` as a PNG."""
    figure.savefig(path, format="png", dpi=DPI, bbox_inches="tight")
    return path


@dataclass(frozen=True)
class FigureView:
    """A figure ready for the page: PNG data URI, caption and its natural width in CSS px."""

    uri: str
    caption: str
    width_px: int


def to_data_uri(figure: Figure) -> str:
    """``figure`` as a PNG data URI, so that the HTML needs no other file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def embed(figure: Figure, caption: str) -> FigureView:
    """``figure`` as a :class:`FigureView`, shown at its drawn size (CSS px are 1/96 in)."""
    return FigureView(to_data_uri(figure), caption, round(figure.get_figwidth() * 96))


def power_curve(result: PowerResult) -> Figure:
    """Power (or share of right answers) by size, with the Monte-Carlo intervals."""
    table = result.table
    figure = Figure(figsize=(5.5, 3.4))
    axes = figure.add_subplot()
    x = table[result.size_label].to_numpy()
    rate = table[result.rate_column].to_numpy()
    axes.errorbar(
        x,
        rate,
        yerr=[rate - table["ci_lower"].to_numpy(), table["ci_upper"].to_numpy() - rate],
        marker="o",
        color="black",
        capsize=3,
    )
    if result.size_label == "pairs":
        axes.plot(x, table["p_cannot_tell"], marker="s", linestyle="--", color="grey")
        axes.legend(["right answer", "cannot tell"], frameon=False)
        axes.set_xlabel("block pairs")
        axes.set_ylabel("share of patients")
    else:
        axes.axhline(0.8, color="grey", linewidth=0.8, linestyle=":")
        axes.set_xlabel("participants (n)")
        axes.set_ylabel("power")
    axes.set_ylim(0, 1)
    axes.set_title(f"{result.protocol_id}, scenario {result.scenario}", fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    return figure


# -- the trial report's figures ------------------------------------------------------

# Colour-blind-safe (Okabe & Ito 2008), and told apart by line style too for print.
CONDITION_STYLES = {
    "ldn": {"color": "#0072B2", "linestyle": "-"},
    "placebo": {"color": "#E69F00", "linestyle": "--"},
}
OTHER_STYLE = {"color": "#555555", "linestyle": ":"}


def style_for(kind: str) -> dict[str, str]:
    """Line colour and style for a condition of this kind (ldn, placebo, none)."""
    return CONDITION_STYLES.get(kind, OTHER_STYLE)


def daily_course_figure(course: pd.DataFrame, item: str) -> Figure:
    """Mean daily rating by day within the phase, one line and 95 % band per series."""
    figure = Figure(figsize=(7.0, 3.6))
    axes = figure.add_subplot()
    if course.empty:
        axes.text(
            0.5,
            0.5,
            "No day was rated by 3 or more participants: no course to show yet",
            ha="center",
            transform=axes.transAxes,
        )
        axes.set_axis_off()
        return figure
    untreated_styles = iter([":", "-.", (0, (1, 3)), (0, (5, 5))])
    for (series, kind), rows in course.groupby(["series", "kind"], sort=False):
        style = style_for(str(kind))
        # Each untreated series (baseline, washout, follow-up) a dash of its own.
        dashes = next(untreated_styles, ":") if kind == "none" else style["linestyle"]
        axes.plot(
            rows["day_in_phase"],
            rows["mean"],
            label=series,
            color=style["color"],
            linestyle=dashes,
        )
        axes.fill_between(
            rows["day_in_phase"],
            rows["ci_lower"],
            rows["ci_upper"],
            color=style["color"],
            alpha=0.15,
        )
    axes.set_xlabel("day within the phase")
    axes.set_ylabel(f"mean daily {item} (0-100)")
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def participant_panels(
    diary: pd.DataFrame, participants: list[str], kinds: dict[str, str], item: str
) -> Figure:
    """Small multiples: each participant's daily ``item``, coloured by condition."""
    columns = 6
    rows = max(1, math.ceil(len(participants) / columns))
    figure = Figure(figsize=(7.2, 1.25 * rows + 0.3))
    mine = diary[diary["item"] == item]
    by_person = dict(tuple(mine.groupby("participant_id", observed=True)))
    for index, pid in enumerate(participants):
        axes = figure.add_subplot(rows, columns, index + 1)
        days = by_person.get(pid, mine.iloc[:0])
        for condition, part in days.groupby("condition", observed=True):
            style = style_for(kinds.get(str(condition), ""))
            axes.plot(
                part["study_day"],
                part["value"],
                marker=".",
                markersize=1.5,
                linewidth=0,
                color=style["color"],
            )
        axes.set_ylim(0, 100)
        axes.set_title(pid, fontsize=7, pad=2)
        axes.tick_params(labelsize=5, length=2)
        axes.spines[["top", "right"]].set_visible(False)
    figure.supxlabel("study day", fontsize=8)
    figure.supylabel(item, fontsize=8)
    figure.tight_layout(pad=0.4)
    return figure


def esr_figure(points: pd.DataFrame, slope: float, intercept: float, cut: float) -> Figure:
    """Response against baseline ESR with the fitted line and the 20 mm/hr split."""
    figure = Figure(figsize=(5.0, 3.4))
    axes = figure.add_subplot()
    axes.scatter(points["esr"], points["response"], s=14, color="#333333")
    x = np.linspace(points["esr"].min(), points["esr"].max(), 50)
    axes.plot(x, intercept + slope * x, color="#0072B2")
    axes.axvline(cut, color="grey", linestyle=":", linewidth=0.8)
    axes.axhline(0, color="grey", linewidth=0.5)
    axes.set_xlabel("baseline ESR (mm/hr)")
    axes.set_ylabel("response (% points)")
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def thresholds_figure(
    by_visit: pd.DataFrame, labels: dict[str, str], kinds: dict[str, str]
) -> Figure:
    """Mean pain threshold at each visit by condition, one panel per measure, with 95 % CIs."""
    measures = list(dict.fromkeys(by_visit["measure"]))
    figure = Figure(figsize=(7.2, 2.6))
    for index, measure in enumerate(measures):
        axes = figure.add_subplot(1, len(measures), index + 1)
        for condition, rows in by_visit[by_visit["measure"] == measure].groupby("condition"):
            style = style_for(kinds.get(condition, ""))
            axes.errorbar(
                rows["visit"],
                rows["mean"],
                yerr=rows["ci_half_width"],
                marker="o",
                markersize=3,
                capsize=2,
                label=labels.get(condition, condition),
                color=style["color"],
                linestyle=style["linestyle"],
            )
        axes.set_title(measure.replace("_", " "), fontsize=9)
        axes.set_xlabel("visit", fontsize=8)
        axes.tick_params(labelsize=7)
        axes.spines[["top", "right"]].set_visible(False)
    figure.axes[0].legend(frameon=False, fontsize=7)
    figure.tight_layout()
    return figure


def cytokine_heatmap(zscores: pd.DataFrame) -> Figure:
    """Within-person z-scores of each analyte by 2-week block (rows: analytes)."""
    grid = zscores.pivot(index="analyte", columns="block", values="z")
    figure = Figure(figsize=(6.0, 0.22 * len(grid) + 1.2))
    axes = figure.add_subplot()
    limit = max(float(np.nanmax(np.abs(grid.to_numpy()))), 0.1)
    image = axes.imshow(grid.to_numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    axes.set_yticks(range(len(grid)), grid.index, fontsize=7)
    axes.set_xticks(range(len(grid.columns)), [str(c) for c in grid.columns], fontsize=7)
    axes.set_xlabel("2-week block")
    figure.colorbar(image, ax=axes, label="mean z-score")
    return figure


def dose_sequence_figure(participants: pd.DataFrame) -> Figure:
    """Up-and-down doses in order of enrolment, filled when the participant responded."""
    figure = Figure(figsize=(6.0, 2.8))
    axes = figure.add_subplot()
    order = np.arange(1, len(participants) + 1)
    responded = participants["responded"].to_numpy(dtype=bool)
    axes.plot(order, participants["dose_mg"], color="grey", linewidth=0.8)
    axes.scatter(
        order[responded], participants["dose_mg"][responded], color="black", label="responded"
    )
    axes.scatter(
        order[~responded],
        participants["dose_mg"][~responded],
        facecolors="white",
        edgecolors="black",
        label="did not respond",
    )
    axes.set_xlabel("participant (order of enrolment)")
    axes.set_ylabel("dose (mg)")
    axes.legend(frameon=False, fontsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def personal_course_figure(
    days: pd.DataFrame,
    analysed_days: set[int],
    labels: dict[str, str],
    kinds: dict[str, str],
    item: str,
    *,
    axis_labels: tuple[str, str] | None = None,
) -> Figure:
    """One woman's daily ratings by study day; days the answer does not use are hollow.

    ``axis_labels`` (x, y) replace the English ones for a page in another language.
    """
    figure = Figure(figsize=(7.0, 3.0))
    axes = figure.add_subplot()
    for condition, part in days.groupby("condition", observed=True):
        style = style_for(kinds.get(str(condition), ""))
        used = part["study_day"].isin(analysed_days).to_numpy()
        axes.scatter(
            part["study_day"][used],
            part["value"][used],
            s=10,
            color=style["color"],
            label=labels.get(str(condition), str(condition)),
        )
        axes.scatter(
            part["study_day"][~used],
            part["value"][~used],
            s=10,
            facecolors="none",
            edgecolors=style["color"],
        )
    axes.set_ylim(0, 102)
    x_label, y_label = axis_labels or ("study day", f"daily {item} (0-100)")
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    axes.spines[["top", "right"]].set_visible(False)
    return figure
