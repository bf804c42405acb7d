"""A core-only install (`pip install ldntrial`, no `[web]`) plans and analyses; the site
commands say how to add the site instead of failing with an ImportError.

`make test-core` runs this where Django is truly absent; in the full install the
import of Django is refused in the child interpreter, which is what Python does when
a package is missing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

WITHOUT_DJANGO = (
    "import sys\n"
    "sys.modules['django'] = None  # as if it were not installed\n"
    "from ldntrial.cli.main import run\n"
    "sys.argv = ['ldntrial', *sys.argv[1:]]\n"
    "run()\n"
)


def _ldntrial_without_django(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_DJANGO, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"LDNTRIAL_DATA_DIR": str(cwd), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        timeout=300,
    )


@pytest.mark.parametrize(
    "command", [["demo", "--no-serve"], ["serve", "--port", "8765"], ["manage", "check"]]
)
def test_the_site_commands_name_the_extra_to_install(command: list[str], tmp_path: Path) -> None:
    result = _ldntrial_without_django(*command, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "pip install 'ldntrial[web]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "demo-output").exists()  # nothing half-done before the message


def test_the_core_commands_work_without_the_site(tmp_path: Path) -> None:
    result = _ldntrial_without_django(
        "power",
        "crossover-2013",
        "--n",
        "12",
        "--sims",
        "50",
        "--seed",
        "3",
        "--workers",
        "1",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "paired t-test of % improvement in pain" in result.stdout
