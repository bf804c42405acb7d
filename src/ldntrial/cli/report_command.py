"""`ldntrial report`: the trial report, or one participant's page, as HTML (and PDF)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console(highlight=False, soft_wrap=True)


def report(
    bundle: Path = typer.Argument(..., help="A trial bundle folder (unblinded)."),
    out: Path = typer.Option(..., "--out", help="The HTML file to write."),
    pdf: Path = typer.Option(None, "--pdf", help="Also print it to this PDF (needs Chromium)."),
    participant: str = typer.Option(
        None, "--participant", help="One participant's page for her and her doctor."
    ),
    language: str = typer.Option(
        "en", "--language", help="Her page's language: en (English) or es (Spanish)."
    ),
) -> None:
    """Write the report of BUNDLE: every pre-specified result with figures and methods."""
    from ldntrial.data.bundle import load_bundle
    from ldntrial.report import write_report

    written = write_report(
        load_bundle(bundle), out, pdf=pdf, participant=participant, language=language
    )
    console.print("wrote " + ", ".join(str(path) for path in written))
