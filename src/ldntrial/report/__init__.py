"""Reports: self-contained HTML (and PDF through Chromium) from a TrialData and its analyses.

:func:`write_report` is what ``ldntrial report`` calls: the trial report, or
with ``participant`` the one-page answer for a patient and her doctor.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ldntrial.data.trialdata import TrialData
from ldntrial.errors import ReportError
from ldntrial.report.chromium import print_pdf
from ldntrial.report.participant_report import render_participant_report
from ldntrial.report.trial_report import render_trial_report

__all__ = ["render_participant_report", "render_trial_report", "write_report"]


def write_report(
    trial: TrialData,
    out: Path,
    *,
    pdf: Path | None = None,
    participant: str | None = None,
    language: str = "en",
) -> list[Path]:
    """Write the report to ``out`` (HTML) and, if asked, ``pdf``; returns the files written.

    The HTML is written to a temporary file and renamed, so a failure never
    leaves half a report where a previous one was.
    """
    for path, option in ((out, "--out"), (pdf, "--pdf")):
        if path is not None and not path.parent.is_dir():
            raise ReportError(f"{option}: folder {path.parent} does not exist")
    html = (
        render_participant_report(trial, participant, language=language)
        if participant is not None
        else render_trial_report(trial)
    )
    _write_atomically(out, html)
    written = [out]
    if pdf is not None:
        written.append(print_pdf(out, pdf))
    return written


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
