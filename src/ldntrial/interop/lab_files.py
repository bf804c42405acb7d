"""Laboratory result files (ESR, multiplex cytokine panels), read and checked row by row.

Two layouts, told apart by their header (names are matched without regard
to case, spaces or ``-``/``_``):

- **long**, one row per sample and analyte: ``participant_id``,
  ``sampled_on`` (``YYYY-MM-DD``), ``analyte``, ``value``, ``unit``;
- **wide**, a plate export with one row per sample: ``participant_id``,
  ``sampled_on``, then one column per analyte whose header carries its unit
  in brackets, e.g. ``IL-6 (pg/mL)``. An empty cell means not measured and
  is left out; the reader counts them so the preview can say so.

Every analyte must be one of the panel's (spelled as the protocol spells it
once matched), in the panel's unit exactly: a file in other units is
refused, not converted, so no value is silently changed. Values are numbers
of at least 0; a reading a plate reader marks out of range ("OOR <",
"<0.5") must be resolved at the laboratory first. Every problem is reported
with its line (the header is line 1) and column, and a file with any
problem imports nothing.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from ldntrial.errors import InteropError, RowProblem
from ldntrial.protocol.model import LabPanel

if TYPE_CHECKING:
    import _csv  # csv.reader's type

__all__ = ["LabFile", "read_lab_file"]

MAX_PROBLEMS = 200
_ID_COLUMNS = {"participantid": "participant_id", "sampledon": "sampled_on"}
_LONG_COLUMNS = {"analyte", "value", "unit"}
_UNIT_IN_HEADER = re.compile(r"^(?P<analyte>.+?)\s*[(\[](?P<unit>[^)\]]+)[)\]]\s*$")
ROW_COLUMNS = ["line", "participant_id", "sampled_on", "panel", "analyte", "value", "unit"]


@dataclass(frozen=True)
class LabFile:
    """A lab file as read: its layout, its results (one row each) and every problem found."""

    layout: str  # "long" or "wide"
    results: pd.DataFrame  # ROW_COLUMNS; ``line`` is the file line each result came from
    problems: list[RowProblem] = field(default_factory=list)
    blank_cells: int = 0  # wide layout: analytes not measured in a sample

    def raise_for_problems(self, source: str = "<file>") -> None:
        """InteropError listing every problem, if there is any."""
        if self.problems:
            raise InteropError(self.problems, source)


def read_lab_file(text: str, panel: LabPanel) -> LabFile:
    """Read ``text`` (CSV) as results of ``panel``; problems are returned, not raised."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
    except csv.Error as error:  # a cell longer than csv's limit
        return _failed("header", f"cannot be read as CSV: {error}")
    if not header or not any(cell.strip() for cell in header):
        return _failed("file", "is empty: the first line must name the columns")
    names = [_key(cell) for cell in header]
    missing = [name for key, name in _ID_COLUMNS.items() if key not in names]
    if missing:
        return _failed("header", f"needs the column(s) {', '.join(missing)}")
    analytes = {_key(name): name for name in panel.analytes}
    reading: _LongReader | _WideReader
    if set(names) >= _LONG_COLUMNS:
        reading = _LongReader(panel, analytes, names)
    else:
        reading = _WideReader(panel, analytes, header, names)
        if reading.problems:
            return LabFile("wide", _empty(), reading.problems)
    for line, cells in _rows(reader, reading):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, as spreadsheets leave at the end
        if len(cells) != len(header):
            reading.problem(line, "row", f"has {len(cells)} cells; the header has {len(header)}")
            continue
        reading.read(line, cells)
        if len(reading.problems) >= MAX_PROBLEMS:
            break
    results = pd.DataFrame(reading.rows, columns=ROW_COLUMNS) if reading.rows else _empty()
    _flag_repeats(results, reading)
    return LabFile(reading.layout, results, reading.problems, reading.blank_cells)


def _rows(reader: _csv.Reader, reading: _Reader) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of each row after the header; a row csv cannot read (a cell over
    csv's 131,072 characters) ends the file with a problem named at its line."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # raised on the line after the last one read
            reading.problem(reader.line_num + 1, "row", f"cannot be read as CSV: {error}")
            return
        yield reader.line_num, cells


class _Reader:
    layout = ""

    def __init__(self, panel: LabPanel, analytes: dict[str, str], names: list[str]) -> None:
        self.panel, self.analytes, self.names = panel, analytes, names
        self.rows: list[dict[str, object]] = []
        self.problems: list[RowProblem] = []
        self.blank_cells = 0

    def problem(self, line: int, column: str, message: str) -> None:
        self.problems.append(RowProblem(line, column, message))

    def cell(self, cells: list[str], name: str) -> str:
        return cells[self.names.index(name)].strip()

    def sample(self, line: int, cells: list[str]) -> tuple[str, date | None]:
        participant = self.cell(cells, "participantid")
        if not participant:
            self.problem(line, "participant_id", "empty")
        text = self.cell(cells, "sampledon")
        try:
            sampled_on = date.fromisoformat(text)
        except ValueError:
            self.problem(line, "sampled_on", f"'{text}' is not a date written YYYY-MM-DD")
            sampled_on = None
        return participant, sampled_on

    def value(self, line: int, column: str, text: str) -> float | None:
        if "," in text:  # 1,5 is 1.5 in one locale and 15 in another: never guessed
            self.problem(
                line,
                column,
                f"'{text}' has a comma: write decimals with a point (1.5) and no "
                "thousands separators",
            )
            return None
        try:
            number = float(text)
        except ValueError:
            self.problem(
                line,
                column,
                f"'{text}' is not a number; resolve out-of-range readings at the laboratory",
            )
            return None
        if not math.isfinite(number) or number < 0:
            self.problem(line, column, f"must be a number of at least 0, got {text}")
            return None
        return number

    def add(
        self,
        line: int,
        participant: str,
        sampled_on: date | None,
        analyte: str,
        value: float | None,
        unit: str,
    ) -> None:
        if participant and sampled_on is not None and value is not None:
            self.rows.append(
                {
                    "line": line,
                    "participant_id": participant,
                    "sampled_on": sampled_on,
                    "panel": self.panel.id,
                    "analyte": analyte,
                    "value": value,
                    "unit": unit,
                }
            )


class _LongReader(_Reader):
    layout = "long"

    def read(self, line: int, cells: list[str]) -> None:
        participant, sampled_on = self.sample(line, cells)
        named = self.cell(cells, "analyte")
        analyte = self.analytes.get(_key(named))
        if analyte is None:
            self.problem(
                line, "analyte", f"'{named}' is not an analyte of the {self.panel.id} panel"
            )
        unit = self.cell(cells, "unit")
        if unit != self.panel.unit:
            self.problem(
                line, "unit", f"the {self.panel.id} panel is in {self.panel.unit}, got '{unit}'"
            )
        value = self.value(line, "value", self.cell(cells, "value"))
        if analyte is not None and unit == self.panel.unit:
            self.add(line, participant, sampled_on, analyte, value, unit)


class _WideReader(_Reader):
    layout = "wide"

    def __init__(
        self, panel: LabPanel, analytes: dict[str, str], header: list[str], names: list[str]
    ) -> None:
        super().__init__(panel, analytes, names)
        self.columns: list[tuple[int, str, str]] = []  # (index, header, analyte)
        for index, (cell, name) in enumerate(zip(header, names, strict=True)):
            if name in _ID_COLUMNS:
                continue
            match = _UNIT_IN_HEADER.match(cell.strip())
            analyte = self.analytes.get(_key(match["analyte"] if match else cell))
            if analyte is None:
                self.problem(1, cell, f"is not an analyte of the {panel.id} panel")
            elif match is None:
                self.problem(1, cell, f"give the unit in the header, e.g. '{cell} ({panel.unit})'")
            elif match["unit"].strip() != panel.unit:
                self.problem(
                    1, cell, f"the {panel.id} panel is in {panel.unit}, got '{match['unit']}'"
                )
            else:
                self.columns.append((index, cell.strip(), analyte))
        if not self.columns and not self.problems:
            self.problem(1, "header", "names no analyte column (e.g. 'IL-6 (pg/mL)')")

    def read(self, line: int, cells: list[str]) -> None:
        participant, sampled_on = self.sample(line, cells)
        for index, column, analyte in self.columns:
            text = cells[index].strip()
            if not text:
                self.blank_cells += 1
                continue
            self.add(
                line,
                participant,
                sampled_on,
                analyte,
                self.value(line, column, text),
                self.panel.unit,
            )


def _flag_repeats(results: pd.DataFrame, reading: _Reader) -> None:
    """The same analyte of the same sample twice in one file: which one is right is unknown."""
    keys = ["participant_id", "sampled_on", "analyte"]
    repeated = results[results.duplicated(keys, keep="first")]
    for line, participant, sampled_on, analyte in repeated[
        ["line", "participant_id", "sampled_on", "analyte"]
    ].itertuples(index=False, name=None):
        reading.problem(
            int(line),
            "analyte",
            f"{analyte} of {participant} on {sampled_on} is in the file twice",
        )


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def _empty() -> pd.DataFrame:
    return pd.DataFrame({column: [] for column in ROW_COLUMNS})


def _failed(column: str, message: str) -> LabFile:
    return LabFile("unknown", _empty(), [RowProblem(1, column, message)])
