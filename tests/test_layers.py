"""Imports point down only (design.md): the contracts in pyproject.toml hold, and the core,
imported for real, brings in no Django, Typer or rich."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).parents[1]

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
    "ldntrial.planning.power",
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


def test_the_import_contracts_hold() -> None:
    """The layers of the core and of the site's apps, and the plain core (import-linter)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=PROJECT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Contracts: 3 kept, 0 broken." in result.stdout
