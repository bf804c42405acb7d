"""Tables as Stata, SPSS and SAS files, with variable labels and value labels (pyreadstat).

One file per table, ready to open: every variable carries its description
from the data dictionary as its label. For Stata and SPSS, text columns with
a known set of values (diary items, phases, severities...) are stored as
whole-number codes with value labels, the way those packages expect; true
and false are 1 and 0 labelled "yes" and "no". SAS transport files (XPT
version 8, which keeps names longer than eight characters) have no value
labels, so text stays text there. Participant ids always stay text, so the
tables join on them in every package. Instants are written in UTC without a
zone (the packages have none), as their labels say.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from ldntrial.data.tables import TABLES, Column
from ldntrial.data.trialdata import TrialData
from ldntrial.interop.formats import STATS_FORMATS

__all__ = ["STATS_FORMATS", "write_stats_files"]

STATA_LABEL_LIMIT = 80  # characters in a Stata variable label


def write_stats_files(
    trial: TrialData, folder: Path, format: str, dictionary: pd.DataFrame
) -> list[Path]:
    """Write each table of ``trial`` to ``folder`` in ``format``; the paths written."""
    rows = dictionary.to_dict("records")
    labels = {
        (str(row["table"]), str(row["column"])): str(row["description"])
        + (f" [{row['unit']}]" if row["unit"] else "")
        for row in rows
    }
    allowed = {
        (str(row["table"]), str(row["column"])): str(row["allowed_values"]).split(" | ")
        for row in rows
        if row["allowed_values"]
    }
    written = []
    for name, table in trial.tables().items():
        columns = TABLES[name]
        frame, value_labels = _coded(name, table, columns, allowed, coded=format != "sas")
        column_labels: dict[str, str | None] = {c.name: labels[(name, c.name)] for c in columns}
        path = folder / f"{name}{STATS_FORMATS[format]}"
        if format == "stata":
            short: dict[str, str | None] = {
                k: v[:STATA_LABEL_LIMIT] if v else v for k, v in column_labels.items()
            }
            pyreadstat.write_dta(
                frame, path, file_label=name, column_labels=short,
                variable_value_labels=value_labels,
            )  # fmt: skip
        elif format == "spss":
            pyreadstat.write_sav(
                frame, path, file_label=name, column_labels=column_labels,
                variable_value_labels=value_labels,
            )  # fmt: skip
        else:
            pyreadstat.write_xport(
                frame, path, file_label=name, column_labels=column_labels,
                table_name=name[:8].upper(), file_format_version=8,
            )  # fmt: skip
        written.append(path)
    return written


def _coded(
    name: str,
    table: pd.DataFrame,
    columns: tuple[Column, ...],
    allowed: dict[tuple[str, str], list[str]],
    *,
    coded: bool,
) -> tuple[pd.DataFrame, dict[str, dict[int | float, str]]]:
    """The table as the package stores it, and the value labels of its coded columns."""
    frame = pd.DataFrame(index=table.index)
    value_labels: dict[str, dict[int | float, str]] = {}
    for column in columns:
        values = table[column.name]
        if column.kind == "instant":
            # nanoseconds: pyreadstat reads other resolutions as nanoseconds (all 1970)
            utc = values.dt.tz_convert("UTC").dt.tz_localize(None)
            frame[column.name] = utc.astype("datetime64[ns]")
        elif column.kind == "date":  # as dates, not midnight date-times
            frame[column.name] = [None if pd.isna(day) else day.date() for day in values]
        elif column.kind == "bool":
            frame[column.name] = values.astype("int64")
            if coded:
                value_labels[column.name] = {0: "no", 1: "yes"}
        elif column.kind in ("text", "category") and coded and column.name != "participant_id":
            text = values.astype("str")
            known = allowed.get((name, column.name), [])
            levels = [*known, *sorted(set(text.dropna()) - set(known))]
            codes = {level: number for number, level in enumerate(levels, start=1)}
            numbers = text.map(codes)  # an empty cell stays missing (a float NaN)
            frame[column.name] = numbers.astype("int64" if numbers.notna().all() else "float64")
            value_labels[column.name] = {number: level for level, number in codes.items()}
        elif column.kind in ("text", "category"):
            frame[column.name] = values.astype("str")
        else:
            frame[column.name] = values
    return frame, value_labels
