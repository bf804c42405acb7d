"""`ldntrial simulate`: a virtual trial from a protocol, saved as a bundle."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ldntrial.errors import SimulationError

console = Console(highlight=False, soft_wrap=True)


def parse_settings(settings: list[str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for setting in settings:
        name, sep, raw = setting.partition("=")
        if not sep or not name:
            raise SimulationError(
                f"--set {setting!r}: write it as name=value, e.g. ldn_effect=0.2"
            )
        try:
            values[name.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[name.strip()] = raw
    return values


def simulate(
    protocol: str = typer.Argument(..., help="A built-in protocol id or a protocol file."),
    n: int = typer.Option(..., "--n", min=1, help="Number of participants."),
    seed: int = typer.Option(
        ..., "--seed", help="Random seed; the same seed gives the same trial."
    ),
    out: Path = typer.Option(..., "--out", help="Folder to write the bundle to."),
    scenario: str = typer.Option("stanford", "--scenario", help="stanford or null."),
    settings: list[str] = typer.Option(
        [], "--set", help="Change a scenario parameter, e.g. --set ldn_effect=0.2 (repeatable)."
    ),
    format: str = typer.Option("parquet", "--format", help="parquet or csv."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing bundle."),
) -> None:
    """Simulate a trial of PROTOCOL and save it as a bundle with its true parameters."""
    from ldntrial.data.bundle import save_bundle
    from ldntrial.simulate import simulate_trial

    overrides = parse_settings(settings)
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("simulate", total=n)
        trial = simulate_trial(
            protocol,
            n=n,
            seed=seed,
            scenario=scenario,
            overrides=overrides,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    path = save_bundle(trial, out, format=format, overwrite=overwrite)
    rows = ", ".join(f"{name} {len(table):,}" for name, table in trial.tables().items())
    console.print(
        f"wrote {path}: {trial.protocol.id}, scenario {scenario}, seed {seed}; rows: {rows}"
    )
