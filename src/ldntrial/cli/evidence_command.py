"""`ldntrial evidence`: the controlled LDN trials in fibromyalgia, pooled, with your own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ldntrial.cli.json_output import print_json

console = Console(highlight=False, soft_wrap=True)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def evidence(
    add: list[Path] = typer.Option(
        [],
        "--add",
        help="The JSON of `ldntrial analyze --json` for a trial of yours to pool (repeatable).",
    ),
    table: Path | None = typer.Option(
        None,
        "--table",
        help="Another evidence table (TOML, the shipped one's form; default: the shipped one).",
    ),
    figure: Path = typer.Option(None, "--figure", help="Also draw the forest plot to this PNG."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Pool the controlled trials of LDN in fibromyalgia (and yours) by random effects."""
    from ldntrial.report.evidence import evidence_lines, forest_plot, what_it_says
    from ldntrial.report.figures import save_png
    from ldntrial.stats.evidence import EVIDENCE_FILE, load_evidence, row_from_analysis, synthesise

    extra = [
        row_from_analysis(path, citation=f"Your trial: {path.stem}", year=datetime.now(UTC).year)
        for path in add
    ]
    synthesis = synthesise(load_evidence(table or EVIDENCE_FILE), extra)
    if figure is not None:
        save_png(forest_plot(synthesis), figure)
    if as_json:
        print_json(synthesis.to_dict())
        return
    shown = Table(
        title=f"Controlled trials of LDN in fibromyalgia (table of {synthesis.table.version})",
        caption="d: standardised difference in pain, positive favours LDN; "
        "d_z: the same within women (crossover)",
    )
    for column in ("trial", "design", "n", "as published", "d [95 % CI]", "weight"):
        shown.add_column(column, overflow="fold")
    for row, line in zip(synthesis.table.rows, evidence_lines(synthesis), strict=True):
        weight = "not pooled" if line.weight_percent is None else f"{line.weight_percent:.0f} %"
        shown.add_row(
            line.label,
            line.design,
            str(line.n),
            row.published,
            f"{line.effect:.2f} [{line.ci_lower:.2f}, {line.ci_upper:.2f}] {line.kind}",
            weight,
        )
    console.print(shown)
    console.print(what_it_says(synthesis.pooled))
    console.print()
    without = Table(title="With each trial left out in turn")
    for column in ("left out", "d [95 % CI]", "tau", "prediction interval"):
        without.add_column(column)
    for row, result in zip(synthesis.rows_pooled(), synthesis.without, strict=True):
        if result is None:
            without.add_row(row.label, "fewer than 2 trials left", "-", "-")
            continue
        without.add_row(
            row.label,
            f"{result.estimate:.2f} [{result.ci_lower:.2f}, {result.ci_upper:.2f}]",
            f"{result.tau:.2f}",
            f"{_number(result.prediction_lower)} to {_number(result.prediction_upper)}",
        )
    console.print(without)
    for row in synthesis.table.rows:
        if not row.pooled:
            console.print(f"{row.label} is not pooled: {row.not_pooled_because}.")
        if row.unconfirmed:
            console.print(f"{row.label}, not confirmed: {row.unconfirmed}.")
    console.print("How each published figure became d:")
    for formula in sorted({effect.formula for effect in synthesis.effects}):
        console.print(f"  - {formula}")
    if figure is not None:
        console.print(f"Forest plot written to {figure}")
