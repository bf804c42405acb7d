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
    "ldntrial demo",
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
