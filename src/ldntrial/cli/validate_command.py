"""`ldntrial validate`: error rates and coverage of every reported analysis, by simulation."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from ldntrial.validation import Validation

console = Console(highlight=False, soft_wrap=True)
progress_console = Console(stderr=True)


def validate_command(
    protocols: list[str] = typer.Argument(
        None, help="Built-in protocol ids or protocol files (default: all seven built-ins)."
    ),
    n: int = typer.Option(
        None, "--n", min=2, help="Participants per trial (default: each design's published n)."
    ),
    sims: int = typer.Option(1000, "--sims", help="Simulated trials per design and scenario."),
    slow_sims: int = typer.Option(
        500, "--slow-sims", help="Trials for the mixed models and per-participant tests."
    ),
    seed: int = typer.Option(
        2026, "--seed", help="Random seed; the same seed gives the same table."
    ),
    workers: int = typer.Option(None, "--workers", help="Processes to use (default: every core)."),
    json_path: Path = typer.Option(None, "--json", help="Write the figures to this JSON file."),
    truth_path: Path = typer.Option(
        None, "--truth", help="Write the true values used to this JSON file."
    ),
    markdown_path: Path = typer.Option(
        None, "--markdown", help="Write the table in Markdown to this file."
    ),
) -> None:
    """Simulate every design under `null` and `stanford` and measure each reported analysis."""
    from ldntrial.validation import PUBLISHED_SIZES, to_markdown, validate

    chosen = protocols or list(PUBLISHED_SIZES)
    with Progress(
        TextColumn("simulating and analysing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=progress_console,
        transient=True,
    ) as bar:
        task = bar.add_task("validate", total=None)
        result = validate(
            chosen,
            sims=sims,
            slow_sims=min(slow_sims, sims),
            seed=seed,
            n=n,
            workers=workers or os.cpu_count() or 1,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    _print(result)
    # The table first: a run takes hours, and what is written survives a later failure.
    if markdown_path is not None:
        markdown_path.write_text(to_markdown(result) + "\n")
        console.print(f"table written to {markdown_path}")
    if truth_path is not None:
        truth_path.write_text(json.dumps(result.truths, indent=1, allow_nan=False) + "\n")
        console.print(f"true values written to {truth_path}")
    if json_path is not None:
        json_path.write_text(json.dumps(result.to_dict(), indent=1, allow_nan=False) + "\n")
        console.print(f"figures written to {json_path}")


def _print(result: Validation) -> None:
    from ldntrial.validation.table import COLUMNS, table_rows

    table = Table(title="Error rates and coverage by simulation (value ± Monte-Carlo SE)")
    for column in COLUMNS:
        table.add_column(column)
    for row in table_rows(result):
        table.add_row(*row)
    console.print(table)
    for (protocol, cell), (status, reasons) in result.verdicts.items():
        if status != "meets":
            console.print(f"{protocol} {cell} is {status}: {'; '.join(reasons)}", markup=False)
    for protocol, reason in result.not_validated.items():
        console.print(f"{protocol}: not validated ({reason})", markup=False)
    console.print(f"{result.settings['seconds']:.0f} s")
