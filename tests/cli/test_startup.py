"""The command line answers at once: its help and the protocol commands load no statistics.

Each check runs in a fresh interpreter, as a user's command does, and names
the heavy libraries that were imported; ``make bench`` measures the seconds.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest

import ldntrial
import ldntrial.interop

HEAVY = ("scipy", "statsmodels", "matplotlib", "django", "fhir", "pyreadstat", "pandas")


def loaded_after(code: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after a fresh interpreter runs ``code``."""
    probe = f"{code}\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return [name for name in result.stdout.strip().split(",") if name]


def test_the_help_of_every_command_loads_none_of_the_heavy_libraries() -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from ldntrial.cli.main import app\n"
        "runner = CliRunner()\n"
        "for command in ([], ['protocol'], ['simulate'], ['analyze'], ['power'], ['evidence'],"
        " ['validate'], ['report'], ['export'], ['import-redcap'], ['demo'], ['serve']):\n"
        "    result = runner.invoke(app, [*command, '--help'])\n"
        "    assert result.exit_code == 0, (command, result.output)\n"
    )
    assert loaded_after(code) == []


def test_reading_a_protocol_loads_neither_scipy_nor_statsmodels() -> None:
    loaded = loaded_after("import ldntrial.protocol; ldntrial.protocol.load_protocol('nof1')")
    assert not {"scipy", "statsmodels", "matplotlib", "django"} & set(loaded)


def test_the_package_front_door_gives_its_names_on_first_use() -> None:
    assert loaded_after("import ldntrial; ldntrial.__version__") == []
    assert "scipy" in loaded_after("import ldntrial; ldntrial.analyze")
    from ldntrial.stats.analyze import analyze

    assert ldntrial.analyze is analyze
    assert set(ldntrial.__all__) <= set(dir(ldntrial))
    with pytest.raises(AttributeError, match="no attribute 'anlyze'"):
        ldntrial.anlyze  # noqa: B018
    assert set(ldntrial.interop.__all__) <= set(dir(ldntrial.interop))
    assert all(hasattr(ldntrial.interop, name) for name in ldntrial.interop.__all__)


def test_the_version_stamped_on_bundles_is_the_installed_one() -> None:
    assert ldntrial.__version__ == version("ldntrial")
