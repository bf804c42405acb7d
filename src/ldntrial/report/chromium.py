"""Printing a report to PDF, or its first screen to PNG, with headless Chromium.

Chromium lays out the same HTML and print CSS a reader's browser would, so
the PDF is the page as designed. Debian's package installs it at
/usr/bin/chromium (``apt-get install -y chromium``); ``LDNTRIAL_CHROMIUM``
names another binary. It runs without a sandbox (it only reads a local file
we wrote) and without background networking (nothing leaves the machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ldntrial.errors import ReportError

__all__ = ["find_chromium", "print_pdf", "screenshot"]

DEFAULT_PATH = "/usr/bin/chromium"
TIMEOUT_SECONDS = 120
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--no-first-run",
    "--hide-scrollbars",
)


def find_chromium() -> Path:
    """The Chromium binary, or ReportError saying how to install one."""
    named = os.environ.get("LDNTRIAL_CHROMIUM")
    candidates = [named] if named else [DEFAULT_PATH, shutil.which("chromium") or ""]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    where = (
        f"LDNTRIAL_CHROMIUM={named} is not an executable file"
        if named
        else (f"no Chromium at {DEFAULT_PATH} or on PATH")
    )
    raise ReportError(
        f"--pdf needs Chromium: {where}; install it with 'apt-get install -y chromium' "
        "or set LDNTRIAL_CHROMIUM; the HTML report was written without it"
    )


def print_pdf(html: Path, pdf: Path) -> Path:
    """Print ``html`` to ``pdf`` (A4, the report's print CSS, no browser header or footer)."""
    _run([f"--print-to-pdf={pdf.resolve()}", "--no-pdf-header-footer"], html, pdf)
    return pdf


def screenshot(html: Path, png: Path, *, width: int = 1000, height: int = 1400) -> Path:
    """The top ``width`` x ``height`` CSS pixels of ``html`` as a PNG (the README's picture)."""
    _run([f"--screenshot={png.resolve()}", f"--window-size={width},{height}"], html, png)
    return png


def _run(arguments: list[str], html: Path, target: Path) -> None:
    binary = find_chromium()
    with tempfile.TemporaryDirectory(prefix="ldntrial-chromium-") as profile:
        command = [
            str(binary),
            *FLAGS,
            f"--user-data-dir={profile}",
            *arguments,
            html.resolve().as_uri(),
        ]
        try:
            finished = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            raise ReportError(
                f"Chromium did not finish {target.name} within {TIMEOUT_SECONDS} s"
            ) from None
    if finished.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        tail = (finished.stderr or "").strip().splitlines()[-3:]
        raise ReportError(f"Chromium could not write {target}: {' | '.join(tail) or 'no output'}")
