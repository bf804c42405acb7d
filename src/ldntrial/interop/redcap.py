"""A study as a REDCap project, and a REDCap project back into a TrialData.

The project mirrors the data contract (standards.md INT-R1, INT-R2):

- instrument ``participant`` (event ``enrolment_arm_1``): one per record,
  ``record_id`` being the participant id;
- repeating instruments in event ``study_arm_1``: ``diary`` (one instance per
  day, one field ``item_<id>`` per diary item, as a REDCap user would enter
  a day), ``visit`` (one per measurement), ``lab`` (one per result),
  ``adverse_event`` and ``blinding_guess``.

Choice columns (sex, status, severity...) are REDCap radio or dropdown
fields coded ``1, label | 2, label``; true/false is ``yesno``; dates are
``date_ymd`` and instants ``datetime_seconds_ymd`` in UTC. The records file
is REDCap's flat import format: ``record_id``, ``redcap_event_name``,
``redcap_repeat_instrument``, ``redcap_repeat_instance``, the fields, and
``<form>_complete``.

:func:`read_redcap` reads such a project (or one whose field and instrument
names differ, through a mapping) into a TrialData: every cell is checked
and every problem reported by line and column, nothing is imported unless
all is well, and fields it cannot place are listed, never silently dropped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ldntrial.data.tables import TABLES, Column
from ldntrial.data.trialdata import TrialData
from ldntrial.errors import DataError, InteropError, RowProblem
from ldntrial.interop.formats import REDCAP_FILES
from ldntrial.interop.forms import diary_by_day, exact_number, form_columns
from ldntrial.protocol.model import DiaryItem, Protocol

__all__ = [
    "DICTIONARY_HEADER",
    "REDCAP_FILES",
    "RedcapImport",
    "read_redcap",
    "read_redcap_files",
    "redcap_dictionary",
    "redcap_records",
    "write_redcap",
]

# INT-R1: REDCap's data dictionary columns, exactly and in this order.
DICTIONARY_HEADER = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
ENROLMENT_EVENT, STUDY_EVENT = "enrolment_arm_1", "study_arm_1"
COMPLETE = "2"
SYSTEM_COLUMNS = (
    "record_id",
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
)

# table -> (instrument, field prefix); the diary's items are fields of their own.
INSTRUMENTS = {
    "participants": ("participant", ""),
    "diary": ("diary", "diary"),
    "visits": ("visit", "visit"),
    "labs": ("lab", "lab"),
    "adverse_events": ("adverse_event", "ae"),
    "blinding_guesses": ("blinding_guess", "guess"),
}
_VALIDATION = {
    "int": "integer",
    "float": "number",
    "date": "date_ymd",
    "instant": "datetime_seconds_ymd",
}
# Columns of DATED types as REDCap writes them.
_INSTANT_FORMAT = "%Y-%m-%d %H:%M:%S"


def _field(table: str, column: str) -> str:
    prefix = INSTRUMENTS[table][1]
    return column if not prefix or column == prefix else f"{prefix}_{column}"


def _item_field(item_id: str) -> str:
    return f"item_{item_id}"


# -- the data dictionary -------------------------------------------------------


def redcap_dictionary(trial: TrialData) -> pd.DataFrame:
    """The REDCap data dictionary of ``trial``'s protocol (the 18 INT-R1 columns)."""
    rows = [_row("record_id", "participant", "text", "Participant id (pseudonymous)")]
    for table, (instrument, _prefix) in INSTRUMENTS.items():
        for column in form_columns(table):
            rows.append(_column_row(table, instrument, column))
            if table == "diary" and column.name == "period":
                rows += [_item_row(item) for item in trial.protocol.diary.items]
    return pd.DataFrame(rows, columns=list(DICTIONARY_HEADER))


def _item_row(item: DiaryItem) -> dict[str, str]:
    """A diary item: a number on its scale, its anchors in the field note."""
    return _row(
        _item_field(item.id),
        "diary",
        "text",
        item.label,
        note=f"{item.min} = {item.low_anchor}; {item.max} = {item.high_anchor}",
        validation="number",
        low=str(item.min),
        high=str(item.max),
    )


def _column_row(table: str, instrument: str, column: Column) -> dict[str, str]:
    name = _field(table, column.name)
    label = column.description + (f" ({column.unit})" if column.unit else "")
    if column.kind == "bool":
        return _row(name, instrument, "yesno", label)
    if column.allowed:
        kind = "radio" if len(column.allowed) <= 3 else "dropdown"
        return _row(name, instrument, kind, label, choices=_choices(column.allowed))
    identifier = "y" if column.kind in ("date", "instant") else ""
    return _row(
        name,
        instrument,
        "text",
        label,
        validation=_VALIDATION.get(column.kind, ""),
        identifier=identifier,
    )


def _choices(allowed: tuple[str, ...]) -> str:
    return " | ".join(f"{code}, {label}" for code, label in enumerate(allowed, start=1))


def _row(
    name: str,
    form: str,
    kind: str,
    label: str,
    *,
    choices: str = "",
    note: str = "",
    validation: str = "",
    low: str = "",
    high: str = "",
    identifier: str = "",
) -> dict[str, str]:
    row = dict.fromkeys(DICTIONARY_HEADER, "")
    row.update(
        {
            "Variable / Field Name": name,
            "Form Name": form,
            "Field Type": kind,
            "Field Label": label,
            "Choices, Calculations, OR Slider Labels": choices,
            "Field Note": note,
            "Text Validation Type OR Show Slider Number": validation,
            "Text Validation Min": low,
            "Text Validation Max": high,
            "Identifier?": identifier,
        }
    )
    return row


# -- the records ---------------------------------------------------------------


def redcap_records(trial: TrialData) -> pd.DataFrame:
    """``trial``'s rows in REDCap's flat import format (one row per record x instance)."""
    dictionary = redcap_dictionary(trial)
    frames = [_participant_rows(trial.participants)]
    frames.append(_diary_rows(trial))
    for table in ("visits", "labs", "adverse_events", "blinding_guesses"):
        frames.append(_repeating_rows(table, getattr(trial, table)))
    records = pd.concat([f for f in frames if len(f)], ignore_index=True)
    columns = [*SYSTEM_COLUMNS[:4]]
    for form in dict.fromkeys(dictionary["Form Name"]):
        fields = dictionary.loc[dictionary["Form Name"] == form, "Variable / Field Name"]
        columns += [name for name in fields if name != "record_id"] + [f"{form}_complete"]
    # A form with no rows at all (a blinded view has no guesses) gets empty text columns.
    return records.reindex(columns=columns, fill_value="").fillna("")


def _participant_rows(table: pd.DataFrame) -> pd.DataFrame:
    rows = _as_text("participants", table, form_columns("participants"))
    rows.insert(0, "record_id", table["participant_id"].astype("str").to_numpy())
    rows.insert(1, "redcap_event_name", ENROLMENT_EVENT)
    rows["participant_complete"] = COMPLETE
    return rows


def _diary_rows(trial: TrialData) -> pd.DataFrame:
    diary = trial.diary
    if not len(diary):
        return pd.DataFrame()
    wide = diary_by_day(diary)
    rows = _as_text("diary", wide, form_columns("diary"))
    for item in trial.protocol.diary.items:
        values = wide[item.id] if item.id in wide.columns else pd.Series(index=wide.index)
        rows[_item_field(item.id)] = [_number(v) for v in values]
    return _repeating(rows, wide["participant_id"], "diary")


def _repeating_rows(table_name: str, table: pd.DataFrame) -> pd.DataFrame:
    if not len(table):
        return pd.DataFrame()
    rows = _as_text(table_name, table, form_columns(table_name))
    return _repeating(rows, table["participant_id"].astype("str"), INSTRUMENTS[table_name][0])


def _repeating(rows: pd.DataFrame, records: pd.Series, form: str) -> pd.DataFrame:
    rows.insert(0, "record_id", records.to_numpy())
    rows.insert(1, "redcap_event_name", STUDY_EVENT)
    rows.insert(2, "redcap_repeat_instrument", form)
    rows.insert(
        3, "redcap_repeat_instance", (rows.groupby("record_id").cumcount() + 1).astype(str)
    )
    rows[f"{form}_complete"] = COMPLETE
    return rows


def _as_text(table: str, frame: pd.DataFrame, columns: list[Column]) -> pd.DataFrame:
    """The columns as REDCap cells: choice codes, 1/0, ISO dates, exact numbers."""
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        values = frame[column.name]
        name = _field(table, column.name)
        if column.kind == "bool":
            out[name] = values.map({True: "1", False: "0"})
        elif column.allowed:
            codes = {label: str(code) for code, label in enumerate(column.allowed, start=1)}
            out[name] = values.astype("str").map(codes)
        elif column.kind == "date":
            out[name] = values.dt.strftime("%Y-%m-%d").fillna("")
        elif column.kind == "instant":
            out[name] = values.dt.strftime(_INSTANT_FORMAT).fillna("")
        elif column.kind in ("int", "float"):
            out[name] = [_number(v) for v in values]
        else:
            out[name] = values.astype("str")
    return out.reset_index(drop=True)


def _number(value: Any) -> str:  # a cell of a table: any type
    return "" if value is None or pd.isna(value) else exact_number(value)


# -- the files -----------------------------------------------------------------


def write_redcap(trial: TrialData, folder: Path) -> list[Path]:
    """The project's files in ``folder``: dictionary, records, events and their instruments."""
    files = {
        "dictionary": redcap_dictionary(trial),
        "records": redcap_records(trial),
        "events": pd.DataFrame(
            {
                "event_name": ["Enrolment", "Study"],
                "arm_num": [1, 1],
                "unique_event_name": [ENROLMENT_EVENT, STUDY_EVENT],
            }
        ),
        "designations": pd.DataFrame(
            [(1, ENROLMENT_EVENT, "participant")]
            + [(1, STUDY_EVENT, form) for form, _p in list(INSTRUMENTS.values())[1:]],
            columns=["arm_num", "unique_event_name", "form"],
        ),
        "repeating": pd.DataFrame(
            [(STUDY_EVENT, form, "") for form, _p in list(INSTRUMENTS.values())[1:]],
            columns=["event_name", "form_name", "custom_form_label"],
        ),
    }
    written = []
    for key, frame in files.items():
        path = folder / REDCAP_FILES[key]
        frame.to_csv(path, index=False)
        written.append(path)
    return written


# -- reading a project ---------------------------------------------------------


@dataclass(frozen=True)
class RedcapImport:
    """The imported TrialData, and the project's fields it could not place (with how many
    non-empty cells each held): listed, so nothing is dropped without anyone knowing."""

    trial: TrialData
    unmapped: dict[str, int] = field(default_factory=dict)


def read_redcap(
    dictionary_text: str,
    records_text: str,
    protocol: Protocol,
    *,
    mapping: Mapping[str, Mapping[str, str]] | None = None,
) -> RedcapImport:
    """A TrialData from a REDCap data dictionary and a flat records export (CSV texts).

    ``mapping`` renames the project's names to these: ``{"fields": {theirs:
    ours}, "instruments": {theirs: ours}}``, for a project whose names cannot
    be guessed. Raises InteropError listing every problem, by line and column.
    """
    mapping = mapping or {}
    fields, instruments = dict(mapping.get("fields", {})), dict(mapping.get("instruments", {}))
    _check_dictionary(dictionary_text)
    reader = csv.DictReader(io.StringIO(records_text.lstrip("\ufeff")))
    try:
        header = [fields.get(name, name) for name in reader.fieldnames or []]
    except csv.Error as error:
        problem = RowProblem(1, "header", f"cannot be read: {error}")
        raise InteropError([problem], source="records") from None
    if "record_id" not in header:
        raise InteropError(
            [RowProblem(1, "record_id", "the records have no record_id column")], source="records"
        )
    unmatched = [
        f"{kind} {theirs!r}"
        for kind, names, present in (
            ("field", fields, reader.fieldnames or []),
            ("instrument", instruments, _instruments_named(records_text)),
        )
        for theirs in names
        if theirs not in present
    ]
    if unmatched:  # a misspelt mapping would otherwise leave its column unread, silently
        message = f"matches nothing in the records: {', '.join(unmatched)}"
        raise InteropError([RowProblem(0, "mapping", message)], source="mapping")
    reading = _Reading(protocol, instruments, header)
    try:
        for row in reader:
            line = reader.line_num
            extra = row.pop(None, None) or []
            missing = sum(value is None for value in row.values())
            if extra or missing:
                cells = len(row) - missing + len(extra)
                reading.problems.append(
                    RowProblem(line, "row", f"has {cells} cells; the header has {len(header)}")
                )
                continue
            reading.read(line, {fields.get(k, k): (v or "").strip() for k, v in row.items()})
    except csv.Error as error:  # a cell longer than csv's limit, on the line after the last read
        reading.problems.append(RowProblem(reader.line_num + 1, "row", f"cannot be read: {error}"))
    if reading.problems:
        raise InteropError(reading.problems[:200], source="records")
    try:
        trial = TrialData.from_tables(protocol, blinded=False, truth=None, **reading.tables())
    except DataError as error:
        raise InteropError([reading.locate(error)], source="records") from None
    return RedcapImport(trial, reading.unmapped())


def _instruments_named(records_text: str) -> set[str]:
    """The repeating instruments the records name (for checking a mapping)."""
    try:
        rows = csv.DictReader(io.StringIO(records_text.lstrip("\ufeff")))
        return {row.get("redcap_repeat_instrument") or "" for row in rows}
    except csv.Error:
        return set()


def read_redcap_files(
    folder: Path, protocol: Protocol, mapping_file: Path | None = None
) -> RedcapImport:
    """:func:`read_redcap` on the dictionary and records files of ``folder``."""
    texts = {}
    for key in ("dictionary", "records"):
        path = folder / REDCAP_FILES[key]
        if not path.is_file():
            raise InteropError([RowProblem(0, "file", f"{path} is missing")], source=str(folder))
        try:
            texts[key] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as error:
            problem = RowProblem(0, "file", f"not UTF-8 text (byte {error.start}); export again")
            raise InteropError([problem], source=str(path)) from None
    mapping = None
    if mapping_file is not None:
        try:
            mapping = json.loads(mapping_file.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            problem = RowProblem(0, "mapping", f"cannot be read as JSON: {error}")
            raise InteropError([problem], source=str(mapping_file)) from None
    return read_redcap(texts["dictionary"], texts["records"], protocol, mapping=mapping)


def _check_dictionary(text: str) -> None:
    try:
        header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))), [])
    except csv.Error:
        header = []
    if tuple(header) != DICTIONARY_HEADER:
        raise InteropError(
            [
                RowProblem(
                    1,
                    "header",
                    "is not a REDCap data dictionary (its 18 columns, in "
                    "order, start with 'Variable / Field Name')",
                )
            ],
            source="data dictionary",
        )


class _Reading:
    """Rows of the records file sorted into the six tables, with every problem noted."""

    def __init__(self, protocol: Protocol, instruments: dict[str, str], header: list[str]):
        self.items = {_item_field(item.id): item.id for item in protocol.diary.items}
        self.instruments = instruments
        self.problems: list[RowProblem] = []
        self.rows: dict[str, list[dict[str, object]]] = {table: [] for table in TABLES}
        self.known = set(SYSTEM_COLUMNS) | set(self.items)
        for table, (form, _prefix) in INSTRUMENTS.items():
            self.known |= {_field(table, c.name) for c in form_columns(table)} | {
                f"{form}_complete"
            }
        self.counts = {name: 0 for name in header if name not in self.known}
        self.by_form = {form: table for table, (form, _p) in INSTRUMENTS.items()}
        self.lines: dict[str, list[int]] = {table: [] for table in TABLES}

    def read(self, line: int, row: dict[str, str]) -> None:
        for name in self.counts:
            self.counts[name] += bool(row.get(name))
        record = row.get("record_id", "")
        if not record:
            self.problems.append(RowProblem(line, "record_id", "is empty"))
            return
        form = row.get("redcap_repeat_instrument", "")
        form = self.instruments.get(form, form) or "participant"
        table = self.by_form.get(form)
        if table is None:
            self.problems.append(
                RowProblem(
                    line,
                    "redcap_repeat_instrument",
                    f"{form!r} is not an instrument of this study",
                )
            )
            return
        values: dict[str, object] = {"participant_id": record}
        for column in form_columns(table):
            values[column.name] = self._value(line, row, _field(table, column.name), column)
        if table != "diary":
            self.rows[table].append(values)
            self.lines[table].append(line)
            return
        for name, item in self.items.items():
            cell = row.get(name, "")
            if cell:
                number = self._number(line, name, cell, float)
                self.rows["diary"].append({**values, "item": item, "value": number})
                self.lines["diary"].append(line)

    def locate(self, error: DataError) -> RowProblem:
        """The contract's objection, at the records line the offending row came from."""
        lines = self.lines.get(error.table or "", [])
        line = lines[error.row] if error.row is not None and error.row < len(lines) else 0
        column = _field(error.table, error.column) if error.table and error.column else "records"
        return RowProblem(line, column, error.message)

    def _value(self, line: int, row: dict[str, str], name: str, column: Column) -> object:
        cell = row.get(name, "")
        if not cell:
            if not column.nullable:
                self.problems.append(RowProblem(line, name, "is required"))
            return None
        if column.kind == "bool":
            if cell not in ("0", "1"):
                self.problems.append(
                    RowProblem(line, name, f"must be 1 (yes) or 0 (no), got {cell!r}")
                )
            return cell == "1"
        if column.allowed:
            if not cell.isdigit() or not 1 <= int(cell) <= len(column.allowed):
                choices = _choices(column.allowed)
                self.problems.append(
                    RowProblem(line, name, f"{cell!r} is not a choice ({choices})")
                )
                return None
            return column.allowed[int(cell) - 1]
        if column.kind in ("int", "float"):
            return self._number(line, name, cell, int if column.kind == "int" else float)
        if column.kind in ("date", "instant"):
            pattern = "%Y-%m-%d" if column.kind == "date" else _INSTANT_FORMAT
            try:
                # A local calendar date, or a UTC time as the export wrote it: no zone in the cell.
                stamp = pd.Timestamp(datetime.strptime(cell, pattern))  # noqa: DTZ007
            except ValueError:
                shown = "YYYY-MM-DD" if column.kind == "date" else "YYYY-MM-DD HH:MM:SS, UTC"
                self.problems.append(RowProblem(line, name, f"{cell!r} is not a date ({shown})"))
                return None
            return stamp.tz_localize("UTC") if column.kind == "instant" else stamp
        return cell

    def _number(self, line: int, name: str, cell: str, kind: type) -> object:
        try:
            number = float(cell)
        except ValueError:
            self.problems.append(RowProblem(line, name, f"{cell!r} is not a number"))
            return None
        if kind is int and not number.is_integer():
            self.problems.append(RowProblem(line, name, f"{cell!r} is not a whole number"))
        return number

    def tables(self) -> dict[str, pd.DataFrame]:
        columns = {name: [c.name for c in TABLES[name]] for name in TABLES}
        return {
            name: pd.DataFrame(rows, columns=columns[name]) for name, rows in self.rows.items()
        }

    def unmapped(self) -> dict[str, int]:
        return dict(self.counts)
