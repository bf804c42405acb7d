"""`ldntrial analyze`: the protocol's pre-specified analyses of a bundle, as text or JSON."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ldntrial.cli.json_output import print_json

console = Console(highlight=False, soft_wrap=True)


def analyze_bundle(
    bundle: Path = typer.Argument(..., help="A trial bundle folder (unblinded)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON document (schema in the README)."
    ),
) -> None:
    """Run every analysis the protocol pre-specifies on BUNDLE and print the results."""
    from ldntrial.data.bundle import load_bundle
    from ldntrial.stats.analyze import analyze

    analysis = analyze(load_bundle(bundle))
    if as_json:
        print_json(analysis.to_dict())
        return
    console.print(
        f"{analysis.protocol_id} ({analysis.design}): "
        f"{analysis.flow['randomised']} randomised, {analysis.flow['completed']} completed, "
        f"{analysis.flow['withdrawn']} withdrawn\n"
    )
    console.print(analysis.summary("text"), markup=False)
    if analysis.nof1:
        for answer in analysis.nof1:
            console.print(f"\n{answer.participant_id}: {answer.paragraph}", markup=False)
    for key, reason in analysis.not_applicable.items():
        console.print(f"not run: {key} ({reason})", markup=False)
