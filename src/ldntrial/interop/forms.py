"""The data contract as forms, shared by the REDCap and ODM exports.

Both formats hold one form instance per row of a table, except the diary:
one instance per participant and day, with a field per diary item (as
someone entering a day would see it). Numbers are written exactly (whole
numbers without a decimal point, others as Python's shortest round-tripping
repr), so a file read back gives the same floats.
"""

from __future__ import annotations

import pandas as pd

from ldntrial.data.tables import TABLES, Column

__all__ = ["diary_by_day", "exact_number", "form_columns"]


def form_columns(table: str) -> list[Column]:
    """The contract's columns that are fields of the table's form (the participant is the
    record; the diary's item and value become one field per item)."""
    skip = {"participant_id"} | ({"item", "value"} if table == "diary" else set())
    return [column for column in TABLES[table] if column.name not in skip]


def diary_by_day(diary: pd.DataFrame) -> pd.DataFrame:
    """The long diary as one row per participant and day, a column per item id."""
    keys = ["participant_id", *(column.name for column in form_columns("diary"))]
    wide = diary.assign(participant_id=diary["participant_id"].astype("str")).pivot_table(
        index=keys, columns="item", values="value", observed=True, aggfunc="first"
    )
    return wide.reset_index().sort_values(["participant_id", "date"], kind="stable")


def exact_number(value: float | int | str) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)
