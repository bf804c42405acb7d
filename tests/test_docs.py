"""The README documents every CLI command, every protocol field and every contract column."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from ldntrial.data import TABLES
from ldntrial.protocol import model

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()

COMMANDS = [
    "ldntrial protocol list",
    "ldntrial protocol show",
    "ldntrial protocol validate",
    "ldntrial protocol new",
    "ldntrial simulate",
    "ldntrial analyze",
    "ldntrial power",
    "ldntrial evidence",
    "ldntrial report",
    "ldntrial demo",
    "ldntrial manage",
    "ldntrial serve",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented(command: str) -> None:
    assert f"`{command}" in README


def _protocol_fields() -> list[str]:
    fields = []
    for value in vars(model).values():
        if (
            isinstance(value, type)
            and issubclass(value, BaseModel)
            and value.__module__ == model.__name__
        ):
            fields.extend(value.model_fields)
    return sorted(set(fields))


@pytest.mark.parametrize("field", _protocol_fields())
def test_every_protocol_field_is_documented(field: str) -> None:
    assert f"`{field}`" in README


@pytest.mark.parametrize(
    "column",
    sorted({f"{table}.{column.name}" for table, columns in TABLES.items() for column in columns}),
)
def test_every_contract_column_is_documented(column: str) -> None:
    table, name = column.split(".")
    section = README.split(f"#### `{table}`", 1)[1].split("####", 1)[0]
    assert f"`{name}`" in section


def _json_section() -> str:
    return README.split("### The JSON document", 1)[1].split("\n## ", 1)[0]


def test_every_key_of_the_analysis_json_is_documented() -> None:
    from ldntrial import analyze, simulate_trial

    section = _json_section()
    for protocol in ("crossover-2013", "nof1", "cytokine-2017", "dose-finding-2020"):
        document = analyze(simulate_trial(protocol, n=12, seed=1)).to_dict()
        for key in document:
            assert f"`{key}`" in section, key
        for key in document["flow"]:
            assert f"`{key}`" in section, key
        results = [v for v in document.values() if isinstance(v, dict) and "terms" in v]
        if document["nof1"]:
            results += document["nof1"]["participants"][:1]
        for result in results:
            for field in result:
                assert f"`{field}`" in section, field
            for row in result["terms"]:
                for column in row:
                    assert f"`{column}`" in section, column
            for table in result["tables"]:
                assert f"`{table}`" in section, table


def test_every_key_of_the_power_json_is_documented() -> None:
    from ldntrial.planning.power import estimate_power

    section = README.split("\n## Power", 1)[1].split("\n## ", 1)[0]
    for protocol, sizes in (("crossover-2013", [6]), ("nof1", [1])):
        document = estimate_power(protocol, sizes=sizes, sims=3, seed=1).to_dict()
        for key in document:
            assert f"`{key}`" in section, key
        for column in document["rows"][0]:
            assert f"`{column}`" in section, column


@pytest.mark.parametrize("name", ["report-first-page", "dashboard", "visit-form"])
def test_the_readme_shows_its_pictures(name: str) -> None:
    picture = Path(__file__).parents[1] / "docs" / f"{name}.png"
    assert f"](docs/{name}.png)" in README
    assert picture.read_bytes().startswith(b"\x89PNG")
