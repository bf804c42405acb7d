"""The validation as a table a reader can check: one row per design and reported analysis."""

from __future__ import annotations

import math

from ldntrial.validation.monte_carlo import CellFigures, Validation

__all__ = ["COLUMNS", "table_rows", "to_markdown"]

COLUMNS = (
    "design (n)",
    "analysis",
    "p < 0.05 when LDN does nothing",
    "coverage, null",
    "coverage, stanford",
    "truth → mean estimate, stanford",
    "bias, stanford",
    "SE / SD, stanford",
    "verdict",
)


def table_rows(validation: Validation) -> list[tuple[str, ...]]:
    """One tuple of strings per cell, in COLUMNS order; figures as value +- Monte-Carlo SE."""
    rows: list[tuple[str, ...]] = []
    for (protocol, cell), (status, _reasons) in validation.verdicts.items():
        by_scenario = {
            f.scenario: f for f in validation.figures if f.protocol == protocol and f.cell == cell
        }
        null, stanford = by_scenario["null"], by_scenario["stanford"]
        rows.append(
            (
                f"{protocol} ({null.n})",
                cell,
                _null_column(null),
                _percent(null.coverage, null.coverage_mcse),
                _percent(stanford.coverage, stanford.coverage_mcse),
                _truth_and_mean(stanford),
                _number(stanford.bias, stanford.bias_mcse),
                _number(stanford.se_ratio, stanford.se_ratio_mcse, signed=False),
                status,
            )
        )
    return rows


def to_markdown(validation: Validation) -> str:
    """The table in Markdown, with the settings and every exploratory cell's reasons below."""
    settings = validation.settings
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(row) + " |" for row in table_rows(validation)),
        "",
        f"{settings['sims']} simulated trials per design and scenario "
        f"({settings['slow_sims']} for the mixed models and per-participant tests), "
        f"seed {settings['seed']}, truths from {settings['truth_people']:,} simulated women; "
        f"{settings['seconds']:.0f} s. Figures are value ± Monte-Carlo SE.",
    ]
    for protocol, reason in validation.not_validated.items():
        lines.append(f"- {protocol}: not validated here ({reason}).")
    for (protocol, cell), (status, reasons) in validation.verdicts.items():
        if status != "meets":
            lines.append(f"- {protocol} {cell} ({status}): {'; '.join(reasons)}.")
    return "\n".join(lines)


def _null_column(null: CellFigures) -> str:
    if not null.has_p_value:
        return f"reported in {_percent(null.reported, null.reported_mcse)} (no true value)"
    return _percent(null.rejection, null.rejection_mcse) + (
        "" if null.tests_ldn else " (no placebo)"
    )


def _truth_and_mean(figures: CellFigures) -> str:
    if figures.truth is None or figures.bias is None:
        return "-"
    return f"{figures.truth:.2f} → {figures.truth + figures.bias:.2f}"


def _percent(value: float | None, mcse: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{100 * value:.1f} ± {100 * (mcse or 0):.1f} %"


def _number(value: float | None, mcse: float | None, *, signed: bool = True) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:{'+' if signed else ''}.2f} ± {mcse or 0:.2f}"
