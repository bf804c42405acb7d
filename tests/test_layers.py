"""The core never imports Django, Typer or rich (design.md: imports point down only)."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "ldntrial.interop",
    "ldntrial.interop.export",
    "ldntrial.interop.redcap",
    "ldntrial.interop.lab_files",
    "ldntrial.data.archive",
    "ldntrial.protocol.diary_timing",
    "ldntrial.protocol.diary_compliance",
    "ldntrial.protocol.allocation_upload",
    "ldntrial.simulate.demo",
    "ldntrial",
    "ldntrial.errors",
    "ldntrial.protocol.loader",
    "ldntrial.protocol.schedule",
    "ldntrial.protocol.randomisation",
    "ldntrial.protocol.kits",
    "ldntrial.protocol.eligibility",
    "ldntrial.data",
    "ldntrial.simulate",
    "ldntrial.stats",
    "ldntrial.stats.power",
    "ldntrial.report",
]


def test_core_imports_no_web_or_cli_framework() -> None:
    code = (
        f"import sys\nfor name in {CORE!r}:\n    __import__(name)\n"
        "print(sorted(m for m in ('django', 'typer', 'rich', 'click') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
