"""`ldntrial import-redcap`: a REDCap project (dictionary and records) as a trial bundle."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ldntrial.interop.formats import REDCAP_FILES

console = Console(highlight=False, soft_wrap=True)


def import_redcap(
    folder: Path = typer.Argument(
        ...,
        help=f"A folder with {REDCAP_FILES['dictionary']} and {REDCAP_FILES['records']}.",
    ),
    protocol: str = typer.Option(..., "--protocol", help="A built-in protocol id or a file."),
    out: Path = typer.Option(..., "--out", help="The bundle folder to write."),
    mapping: Path | None = typer.Option(
        None, "--mapping", help='JSON: {"fields": {theirs: ours}, "instruments": {...}}.'
    ),
) -> None:
    """Read FOLDER's REDCap project into a bundle; list the fields that could not be placed."""
    from ldntrial.data.bundle import save_bundle
    from ldntrial.interop.redcap import read_redcap_files
    from ldntrial.protocol.loader import load_protocol

    done = read_redcap_files(folder, load_protocol(protocol), mapping)
    path = save_bundle(done.trial, out)
    console.print(f"wrote {path}: {len(done.trial.participants)} participants")
    for field, cells in done.unmapped.items():
        console.print(
            f"not imported: field {field} ({cells} non-empty cells): map it or drop it",
            markup=False,
        )
