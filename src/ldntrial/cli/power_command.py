"""`ldntrial power`: power of a protocol's pre-specified primary analysis, by simulation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ldntrial.cli.json_output import print_json
from ldntrial.cli.simulate_command import parse_settings
from ldntrial.errors import AnalysisError

if TYPE_CHECKING:
    from ldntrial.planning.power import PowerResult

console = Console(highlight=False, soft_wrap=True)
progress_console = Console(stderr=True)  # keeps stdout clean for --json

DEFAULT_PAIRS = "1,2,3,4,6"
CURVE_WIDTH = 30


def parse_sizes(option: str, text: str) -> list[int]:
    """'10,20,40' -> [10, 20, 40], or an error naming the option and the rule."""
    sizes = []
    for part in text.split(","):
        try:
            sizes.append(int(part.strip()))
        except ValueError:
            raise AnalysisError(
                f"{option}: {part.strip()!r} is not a whole number; write sizes as 10,20,40"
            ) from None
    return sizes


def power(
    protocol: str = typer.Argument(..., help="A built-in protocol id or a protocol file."),
    n: str = typer.Option(
        None, "--n", help="Participants per simulated trial, comma-separated, e.g. 10,20,40."
    ),
    pairs: str = typer.Option(
        None, "--pairs", help=f"N-of-1 only: block pairs to compare (default {DEFAULT_PAIRS})."
    ),
    sims: int = typer.Option(1000, "--sims", help="Simulated trials (or patients) per size."),
    seed: int = typer.Option(1, "--seed", help="Random seed; the same seed gives the same table."),
    scenario: str = typer.Option("stanford", "--scenario", help="stanford or null."),
    settings: list[str] = typer.Option(
        [], "--set", help="Change a scenario parameter, e.g. --set ldn_effect=0.2 (repeatable)."
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="Two-sided significance level."),
    workers: int = typer.Option(None, "--workers", help="Processes to use (default: every core)."),
    dask_scheduler: str = typer.Option(
        None,
        "--dask-scheduler",
        metavar="ADDRESS",
        help="Run on this Dask cluster instead, e.g. tcp://10.0.0.5:8786 (same figures).",
    ),
    plot: Path = typer.Option(None, "--plot", help="Also draw the curve to this PNG file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Simulate PROTOCOL many times per sample size and report the primary analysis's power."""
    from ldntrial.planning.power import estimate_power
    from ldntrial.protocol.design import Design
    from ldntrial.protocol.loader import load_protocol

    loaded = load_protocol(protocol)
    sizes = _sizes(loaded.design == Design.NOF1, n, pairs)
    with Progress(
        TextColumn("simulating and analysing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=progress_console,
        transient=True,
    ) as bar:
        task = bar.add_task("power", total=sims * len(sizes))
        result = estimate_power(
            loaded,
            sizes=sizes,
            sims=sims,
            seed=seed,
            scenario=scenario,
            overrides=parse_settings(settings),
            alpha=alpha,
            workers=workers or os.cpu_count() or 1,
            dask_scheduler=dask_scheduler,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if plot is not None:
        from ldntrial.report.figures import power_curve, save_png

        save_png(power_curve(result), plot)
    if as_json:
        print_json(result.to_dict())
        return
    _print(result)
    if plot is not None:
        console.print(f"curve written to {plot}")


def _sizes(nof1: bool, n: str | None, pairs: str | None) -> list[int]:
    if nof1:
        if n is not None:
            raise AnalysisError(
                "--n: an N-of-1 protocol has one patient per trial; "
                "give the numbers of block pairs with --pairs, e.g. --pairs 1,2,3"
            )
        return parse_sizes("--pairs", pairs or DEFAULT_PAIRS)
    if pairs is not None:
        raise AnalysisError("--pairs: only an N-of-1 protocol has block pairs; use --n")
    if n is None:
        raise AnalysisError("--n: give the sample sizes to simulate, e.g. --n 10,20,40")
    return parse_sizes("--n", n)


def _print(result: PowerResult) -> None:
    console.print(
        f"{result.protocol_id} ({result.design}), scenario {result.scenario}, "
        f"{result.sims} simulated {'patients' if result.size_label == 'pairs' else 'trials'} "
        f"per size, seed {result.seed}"
    )
    console.print(f"success: {result.criterion}")
    table = Table(box=None, pad_edge=False)
    rate = result.rate_column
    dose_finding = rate == "estimated"
    columns = [result.size_label, rate, "95 % MC interval"]
    if result.size_label == "pairs":
        columns += ["cannot tell", "wrong"]
    elif dose_finding:
        columns += ["enrolled", "mean ED50", "SD of ED50", "median interval width"]
    else:
        columns += ["mean estimate"]
    for column in [*columns, "curve"]:
        table.add_column(column, justify="left" if column == "curve" else "right")
    for row in result.table.to_dict(orient="records"):
        cells = [
            str(row[result.size_label]),
            f"{row[rate]:.3f}",
            f"{row['ci_lower']:.3f}-{row['ci_upper']:.3f}",
        ]
        if result.size_label == "pairs":
            cells += [f"{row['p_cannot_tell']:.3f}", f"{row['wrong'] / row['patients']:.3f}"]
        elif dose_finding:
            cells += [
                f"{row['mean_enrolled']:.1f}",
                f"{row['mean_ed50']:.2f} mg",
                f"{row['sd_ed50']:.2f} mg",
                f"{row['median_width']:.2f} mg",
            ]
        else:
            cells += [f"{row['mean_estimate']:+.1f}"]
        cells.append("█" * round(row[rate] * CURVE_WIDTH))
        table.add_row(*cells)
    console.print(table)
    for warning in result.warnings:
        console.print(f"note: {warning}")
