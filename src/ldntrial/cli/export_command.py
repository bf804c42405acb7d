"""`ldntrial export`: a bundle as files for other tools, de-identified unless asked otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from ldntrial.interop.formats import EXPORT_FORMATS

console = Console(highlight=False, soft_wrap=True)

KEY_VARIABLE = "LDNTRIAL_EXPORT_KEY"


def export(
    bundle: Path = typer.Argument(..., help="A trial bundle folder."),
    format: str = typer.Option(..., "--format", help=f"One of: {', '.join(EXPORT_FORMATS)}."),
    out: Path = typer.Option(..., "--out", help="The folder to write (must not exist)."),
    deidentify: bool = typer.Option(
        True,
        "--deidentify/--identified",
        help="De-identified (the default; needs LDNTRIAL_EXPORT_KEY) or identified data.",
    ),
    study: str = typer.Option(
        "", "--study", help="The study's name for its pseudonyms (default: the protocol's id)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
) -> None:
    """Write BUNDLE's tables to OUT with a data dictionary, for R, Stata, Python or a registry."""
    from ldntrial.data.bundle import load_bundle
    from ldntrial.interop.export import export_trial

    trial = load_bundle(bundle)
    key = os.environ.get(KEY_VARIABLE)
    done = export_trial(
        trial,
        out,
        format=format,
        study=study or trial.protocol.id,
        key=key.encode() if key else None,
        identified=not deidentify,
        overwrite=overwrite,
    )
    kind = "de-identified" if deidentify else "identified"
    console.print(
        f"{kind} {format} export of {len(trial.participants)} participants written to {done.path}"
    )
